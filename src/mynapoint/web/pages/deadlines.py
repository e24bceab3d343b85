"""The deadlines in force and what changed when, in words, from the versioned campaign rules.

Built on the API's view of a campaign (`campaign_out`: the latest version announced by the
day asked about, with every version announced by then), so the top page says exactly what
`GET /api/v1/campaigns` says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mynapoint.domain.measures import MeasureKind
from mynapoint.web.api.campaigns import CampaignOut, CutoffOut
from mynapoint.web.i18n import _, long_date, pgettext, yen
from mynapoint.web.pages.opening_times import lang_of, localized, period_text


@dataclass(frozen=True)
class Change:
    announced: date
    effective: date
    text: str
    is_original: bool


@dataclass(frozen=True)
class DeadlineView:
    campaign: CampaignOut
    name: str
    name_lang: str
    points: str
    applications: str
    spending: str | None
    card_cutoff: str | None
    changes: list[Change]

    @property
    def has_changed(self) -> bool:
        return len(self.changes) > 1


def cutoff_text(cutoff: CutoffOut) -> str:
    """2021年4月30日(金)までにマイナンバーカードを申請した方 (+ the online relief)."""
    text = _("{day}までにマイナンバーカードを申請した方").format(day=long_date(cutoff.applied_by))
    if cutoff.applied_online_by is not None:
        text += _("(オンライン申請は{day}まで)").format(day=long_date(cutoff.applied_online_by))
    return text


def points_text(campaign: CampaignOut) -> str:
    if campaign.kind is MeasureKind.SPENDING and campaign.rate_percent:
        return _("チャージ・お買い物の{rate}%(上限{cap}分)").format(
            rate=campaign.rate_percent, cap=yen(campaign.cap)
        )
    return _("{cap}分").format(cap=yen(campaign.cap))


def _deadline_text(what: str, day: date, before: date | None) -> str:
    if before is None:
        return _("{what}は{day}まで").format(what=what, day=long_date(day))
    if day > before:
        return _("{what}を{day}まで延長").format(what=what, day=long_date(day))
    return _("{what}を{day}までに変更").format(what=what, day=long_date(day))


def _closing_text(
    apps: date | None,
    spending: date | None,
    before: tuple[date | None, date | None],
) -> list[str]:
    """The deadlines one announcement set: one phrase when both move to the same day."""
    if apps is not None and apps == spending:
        return [_deadline_text(_("申込みと対象のチャージ・お買い物の期限"), apps, before[0])]
    parts = []
    if apps is not None:
        parts.append(_deadline_text(_("申込みの期限"), apps, before[0]))
    if spending is not None:
        parts.append(_deadline_text(_("対象のチャージ・お買い物の期限"), spending, before[1]))
    return parts


def deadline_changes(campaign: CampaignOut) -> list[Change]:
    """Each announcement that set or moved a deadline or the card cut-off, oldest first.

    Versions announced together and taking effect together are one change; the first is the
    original rule ("当初"), each later one says what it moved and from when it applies.
    """
    history = campaign.history
    keys: set[tuple[date, date]] = set()
    apps = {(v.announced, v.effective): v.last_day for v in history.applications_close}
    spending = {(v.announced, v.effective): v.last_day for v in history.spending_closes or []}
    cutoffs = {(v.announced, v.effective): v.value for v in history.card_cutoff}
    keys.update(apps, spending, cutoffs)
    changes = []
    last_apps: date | None = None
    last_spending: date | None = None
    for index, key in enumerate(sorted(keys)):
        original = index == 0
        parts = _closing_text(apps.get(key), spending.get(key), (last_apps, last_spending))
        last_apps = apps.get(key, last_apps)
        last_spending = spending.get(key, last_spending)
        if key in cutoffs:
            cutoff = cutoffs[key]
            if cutoff is not None:
                parts.append(_("対象は{who}").format(who=cutoff_text(cutoff)))
            elif not original:
                parts.append(_("マイナンバーカードの申請時期の条件をなくす"))
        if not parts:
            continue
        changes.append(
            Change(
                announced=key[0],
                effective=key[1],
                text=pgettext("list", "、").join(parts),
                is_original=original,
            )
        )
    return changes


def deadline_view(campaign: CampaignOut) -> DeadlineView:
    apps = campaign.applications
    spending = campaign.spending
    return DeadlineView(
        campaign=campaign,
        name=localized(campaign.name_ja, campaign.name_en),
        name_lang=lang_of(campaign.name_en),
        points=points_text(campaign),
        applications=period_text(apps.opens.date(), apps.last_day),
        spending=None
        if spending is None
        else period_text(spending.opens.date(), spending.last_day),
        card_cutoff=None if campaign.card_cutoff is None else cutoff_text(campaign.card_cutoff),
        changes=deadline_changes(campaign),
    )


def current_spending(campaigns: list[CampaignOut], today: date) -> CampaignOut | None:
    """The spending measure people can still apply for today (the earliest one), if any."""
    open_ones = [
        c for c in campaigns if c.kind is MeasureKind.SPENDING and c.applications.last_day >= today
    ]
    return min(open_ones, key=lambda c: c.applications.opens, default=None)


def in_force_text(campaign: CampaignOut) -> str:
    """What the city's page said in 2021, from whatever the rules in force say."""
    last = campaign.spending.last_day if campaign.spending else campaign.applications.last_day
    if campaign.card_cutoff is not None:
        return _(
            "{cutoff}までにマイナンバーカードを申請した方は、カード受取後、マイナポイントをお申込みの上、"
            "{last}までにチャージまたはお買い物をすることで、マイナポイントを受け取ることができます。"
        ).format(cutoff=long_date(campaign.card_cutoff.applied_by), last=long_date(last))
    return _(
        "マイナポイントをお申込みの上、{last}までにチャージまたはお買い物をすることで、"
        "マイナポイントを受け取ることができます。"
    ).format(last=long_date(last))
