"""/ministry/policy: the policy lab (issue 16) for the ministry's policy staff and its
administrators. The home page starts a replay of candidate rules over the recorded history
(a packaged candidate, the rules in force, or an uploaded YAML file) and lists the recent
ones; /ministry/policy/replays/{id} shows its progress (refreshing itself) and then its
result beside the rules diff; .json is the replay's document, .csv every breakdown.

The replay runs in the background (services/policy_runs.py): on `mynapoint worker` with
PostgreSQL, else in this process after the response is sent (jobs/replays.py)."""

# No `from __future__ import annotations`: FastAPI reads the routes' `Annotated` parameters.

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Final

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response

from mynapoint.bootstrap import Platform
from mynapoint.domain.calendar import jst_date
from mynapoint.domain.replay_runs import StoredReplay
from mynapoint.domain.rule_changes import RuleChange, change_document
from mynapoint.domain.rules_diff import rules_diff
from mynapoint.jobs.replays import run_replay
from mynapoint.rules.candidates import (
    IN_FORCE,
    Candidate,
    candidate_from_text,
    in_force,
    packaged_candidate,
    packaged_candidates,
)
from mynapoint.rules.loader import RuleDataError
from mynapoint.services.audit import record
from mynapoint.services.policy_runs import ReplayRequest, result, start
from mynapoint.services.ports import UnitOfWork
from mynapoint.services.staff import SignedInStaff
from mynapoint.web.csrf import check_csrf
from mynapoint.web.dependencies import PlatformDep
from mynapoint.web.i18n import N_, _, date_time, number
from mynapoint.web.pages.console.access import NO_STORE, json_error, member_of, page, redirect
from mynapoint.web.pages.console.areas import MINISTRY_CONSOLE
from mynapoint.web.pages.ministry import policy_views as views

PATH: Final = "/ministry/policy"
RECENT: Final = 20
REFRESH_SECONDS: Final = 2
RULES_FILE_MAX_BYTES: Final = 256 * 1024
UPLOADED: Final = "upload"  # the form's choice of an uploaded file
STATUS: Final = {
    "queued": N_("順番待ち"),
    "running": N_("計算中"),
    "done": N_("完了"),
    "failed": N_("失敗"),
}
NO_FILE: Final = N_(
    "ルールのYAMLファイルを選んでください(error: invalid_request)。"
    "登録済みの候補を使う場合は、候補の一覧から選んでください。"
)
FILE_TOO_LARGE: Final = N_(
    "ルールのファイルが大きすぎます({size} バイト)。256 KiB までにしてください"
    "(error: request_too_large)。"
)
BAD_RULES: Final = N_("ルールのファイルに誤りがあります(error: invalid_rules): {message}")
NOT_UTF8: Final = N_(
    "ルールのファイルは UTF-8 のテキスト(YAML)にしてください(error: invalid_rules)。"
)
UNKNOWN_CHOICE: Final = N_("候補のルールを一覧から選んでください(error: invalid_request)。")
BAD_DATE: Final = N_(
    "基準日は 2021-09-30 の形(年-月-日)で入力してください。空欄は記録のすべてです"
    "(error: invalid_request)。"
)
BAD_SAMPLE: Final = N_(
    "標本の割合は 0 より大きく 100 以下の数(%)で入力してください(例: 10)。"
    "空欄はすべての申込者です(error: invalid_request)。"
)
NOT_FOUND: Final = N_(
    "その試算は見つかりません(error: not_found)。政策ラボの一覧から選んでください。"
)

router = APIRouter(include_in_schema=False)
Analyst = Annotated[SignedInStaff, Depends(member_of(MINISTRY_CONSOLE, PATH))]
ReplayId = Annotated[str, Path(max_length=32)]


@dataclass
class Sent:
    """The form as sent (re-shown with its errors)."""

    candidate: str = "rate-20"
    as_of: str = ""
    sample: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _choices() -> list[tuple[str, str]]:
    packaged = [(name, name) for name in packaged_candidates()]
    return [
        (IN_FORCE, _("現行のルール(in-force)")),
        *packaged,
        (UPLOADED, _("YAMLファイルをアップロードする")),
    ]


def _home(request: Request, platform: Platform, sent: Sent) -> Response:
    uow = platform.unit_of_work()
    with uow.reading():
        replays = uow.replays.recent(RECENT)
    context = {
        "page_title": N_("政策ラボ"),
        "choices": _choices(),
        "sent": sent,
        "errors": sent.errors,
        "error": next(iter(sent.errors.values()), None),
        "replays": [(replay, _(STATUS[replay.status])) for replay in replays],
    }
    status = 422 if sent.errors else 200
    return page(request, MINISTRY_CONSOLE, "ministry/policy.html", context, status)


@router.get(PATH, response_class=HTMLResponse)
def policy_page(request: Request, me: Analyst, platform: PlatformDep) -> Response:
    del me
    return _home(request, platform, Sent())


def _candidate(sent: Sent, file: UploadFile | None) -> Candidate | None:
    """The candidate the form names; None with the reason in `sent.errors`."""
    if sent.candidate == IN_FORCE:
        return in_force()
    if sent.candidate in packaged_candidates():
        return packaged_candidate(sent.candidate)
    if sent.candidate != UPLOADED:
        sent.errors["candidate"] = _(UNKNOWN_CHOICE)
        return None
    if file is None or not file.filename:
        sent.errors["file"] = _(NO_FILE)
        return None
    content = file.file.read(RULES_FILE_MAX_BYTES + 1)
    if len(content) > RULES_FILE_MAX_BYTES:
        sent.errors["file"] = _(FILE_TOO_LARGE).format(size=number(file.size or len(content)))
        return None
    try:
        return candidate_from_text(content.decode("utf-8"), file.filename[:200])
    except UnicodeDecodeError:
        sent.errors["file"] = _(NOT_UTF8)
    except RuleDataError as exc:
        sent.errors["file"] = _(BAD_RULES).format(message=exc)
    return None


def _parsed(sent: Sent) -> tuple[date | None, float | None]:
    as_of: date | None = None
    sample: float | None = None
    if sent.as_of.strip():
        try:
            as_of = date.fromisoformat(sent.as_of.strip())
        except ValueError:
            sent.errors["as_of"] = _(BAD_DATE)
    if sent.sample.strip():
        try:
            sample = float(sent.sample.strip())
        except ValueError:
            sample = None
            sent.errors["sample"] = _(BAD_SAMPLE)
        else:
            if not 0 < sample <= 100:
                sent.errors["sample"] = _(BAD_SAMPLE)
    return as_of, sample


@router.post(PATH)
def start_replay(
    request: Request,
    me: Analyst,
    _csrf: Annotated[None, Depends(check_csrf)],
    platform: PlatformDep,
    background: BackgroundTasks,
    candidate: Annotated[str, Form(max_length=100)] = "",
    as_of: Annotated[str, Form(max_length=40)] = "",
    sample: Annotated[str, Form(max_length=40)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    sent = Sent(candidate, as_of, sample)
    chosen = _candidate(sent, file)
    cut, percent = _parsed(sent)
    if chosen is None or sent.errors:
        return _home(request, platform, sent)
    now = platform.clock.now()

    def audited(uow: UnitOfWork, action: str, details: Mapping[str, Any]) -> None:
        record(uow, now=now, actor=me.account.name, role=me.account.role.value, corner=None,
               action=action, details=details)  # fmt: skip

    request_ = ReplayRequest(chosen, cut, percent, cut or jst_date(now))
    replay = start(platform.unit_of_work(), request_, me.account.name, now, audited)
    if platform.settings.runs_jobs_inprocess:
        background.add_task(run_replay, platform, replay.replay_id)
    return redirect(f"{PATH}/replays/{replay.replay_id}")


def _stored(platform: Platform, replay_id: str) -> StoredReplay | None:
    uow = platform.unit_of_work()
    with uow.reading():
        return uow.replays.get(replay_id)


def _not_found(request: Request) -> Response:
    context = {"title": N_("試算が見つかりません"), "text": _(NOT_FOUND)}
    return page(request, MINISTRY_CONSOLE, "console/forbidden.html", context, 404)


def _finished(platform: Platform, replay_id: str) -> tuple[StoredReplay | None, Any]:
    replay = _stored(platform, replay_id)
    if replay is None or replay.status != "done":
        return replay, None
    return replay, result(platform.unit_of_work(), replay_id)


def _changes(platform: Platform, replay: StoredReplay) -> tuple[RuleChange, ...]:
    """What the replay's candidate changes from the rules in force (the rules diff)."""
    candidate = candidate_from_text(replay.rules_text, replay.rules_name)
    return rules_diff(platform.rules, candidate.rules)


def _not_done(replay_id: str, replay: StoredReplay | None) -> JSONResponse:
    if replay is None:
        return json_error("not_found", f"no replay '{replay_id[:32]}'", 404)
    return json_error(
        "replay_not_done",
        f"replay {replay_id} is {replay.status}; its result is there once it is done",
        409,
    )


@router.get(f"{PATH}/replays/{{replay_id}}.json")
def replay_json(me: Analyst, platform: PlatformDep, replay_id: ReplayId) -> Response:
    del me
    replay, document = _finished(platform, replay_id)
    if document is None or replay is None:
        return _not_done(replay_id, replay)
    # As `mynapoint policy replay --json` gives it (without its `seconds`).
    document["changes"] = [change_document(change) for change in _changes(platform, replay)]
    return JSONResponse(document, headers=NO_STORE)


@router.get(f"{PATH}/replays/{{replay_id}}.csv")
def replay_csv(me: Analyst, platform: PlatformDep, replay_id: ReplayId) -> Response:
    del me
    replay, document = _finished(platform, replay_id)
    if document is None:
        return _not_done(replay_id, replay)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow((*views.CSV_HEADERS, "rules", "as_of", "sample_percent"))
    run = (document["rules"], document["as_of"] or "", document["sample_percent"])
    for row in views.csv_rows(platform, document):
        writer.writerow((*row, *run))
    filename = f"mynapoint-replay-{replay_id}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(f"{PATH}/replays/{{replay_id}}", response_class=HTMLResponse)
def replay_page(
    request: Request, me: Analyst, platform: PlatformDep, replay_id: ReplayId
) -> Response:
    del me
    replay, document = _finished(platform, replay_id)
    if replay is None:
        return _not_found(request)
    expected = replay.persons_expected
    context: dict[str, Any] = {
        "page_title": N_("政策ラボの試算"),
        "replay": replay,
        "status": _(STATUS[replay.status]),
        "requested_at": date_time(replay.created_at),
        "refresh": REFRESH_SECONDS if replay.is_live else None,
        "percent": round(100 * replay.persons_done / expected) if expected else None,
        "document": document,
    }
    if document is not None:
        context |= {
            "totals": views.totals(document),
            "figures": views.figures(platform, document),
            "at_cap": views.at_cap(document),
            "changes": views.changes(_changes(platform, replay)),
        }
    return page(request, MINISTRY_CONSOLE, "ministry/policy_replay.html", context)
