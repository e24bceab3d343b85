"""Words for what the console shows: actions of the audit log, end reasons, measures, services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from mynapoint.domain.assist import EndReason
from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.measures import Channel, EventKind, Measure
from mynapoint.domain.services import Catalog, PaymentService
from mynapoint.web.error_messages import MESSAGES, message_for
from mynapoint.web.i18n import N_, _, current_locale

ACTION_LABELS: Final = {
    "session_started": N_("手続き開始(カード読み取り)"),
    "card_read_failed": N_("カードの読み取りに失敗"),
    "mykey_set_up": N_("マイキーIDを設定"),
    "mykey_refused": N_("マイキーIDを設定できず"),
    "preview": N_("口座名義を表示"),
    "preview_refused": N_("口座を確認できず"),
    "preview_rejected": N_("名義が違うとの回答"),
    "applied": N_("申込み完了"),
    "apply_refused": N_("申込みできず"),
    "session_ended": N_("手続き終了"),
    "step_refused": N_("終了した手続きへの操作を拒否"),
    "staff_added": N_("職員アカウントを作成"),
    "staff_signed_in": N_("サインイン"),
    "staff_signed_out": N_("サインアウト"),
    # Written before staff accounts stopped locking (migration 0010): old entries keep them.
    "staff_locked": N_("アカウントをロック(パスワード5回誤り)"),
    "staff_unlocked": N_("アカウントのロックを解除"),
    "staff_password_changed": N_("パスワードを変更"),
    "staff_disabled": N_("アカウントを停止"),
    "staff_enabled": N_("アカウントを再開"),
    "staff_password_reset": N_("パスワードを再設定(一時パスワード)"),
    "operator_key_created": N_("APIキーを作成"),
    "operator_key_rotated": N_("APIキーを更新(古いキーは重複期間の後に停止)"),
    "operator_key_revoked": N_("APIキーを失効"),
    "operator_events_uploaded": N_("イベントファイルをアップロード"),
    "operator_accounts_uploaded": N_("口座の登録ファイルをアップロード"),
    "policy_replay_started": N_("政策ラボの試算を開始"),
}

END_REASON_LABELS: Final = {
    EndReason.APPLIED: N_("申込み完了"),
    EndReason.ENDED_BY_STAFF: N_("職員が終了"),
    EndReason.INACTIVITY: N_("一定時間操作がなかったため"),
    EndReason.NEXT_CARD: N_("次のカードを読み取ったため"),
    EndReason.CARD_MISMATCH: N_("別のカードで署名されたため"),
    EndReason.SIGNED_OUT: N_("職員がサインアウトしたため"),
    EndReason.SIGNED_IN_AGAIN: N_("職員がサインインし直したため"),
}

COUNTS_LABELS: Final = {EventKind.CHARGE: N_("チャージ"), EventKind.PURCHASE: N_("お買い物")}

CHANNEL_LABELS: Final = {
    Channel.APP: N_("決済サービスのアプリ"),
    Channel.STORE: N_("店頭"),
    Channel.ONLINE: N_("ご自身のスマートフォン・パソコン"),
    Channel.SUPPORT_CORNER: N_("サポートコーナー"),
}

# What the counter says for the codes of its own steps (the others: web/error_messages.py).
COUNTER_MESSAGES: Final = {
    "session_ended": N_(
        "この手続きはすでに終了しています。何も申し込まれていません。"
        "続けるには、カードを読み取り直してください。"
    ),
    "card_mismatch": N_(
        "読み取ったカードが、この手続きを始めたカードと違います。安全のため手続きを終了しました。"
        "何も申し込まれていません。最初からやり直してください。"
    ),
    "preview_outdated": N_(
        "この確認画面は最新ではありません。何も申し込まれていません。もう一度入力してください。"
    ),
    "representative_card_required": N_(
        "法定代理人の方のカードを読み取り、暗証番号を入力してください。"
    ),
    "certificate_superseded": N_(
        "このカードの電子証明書は更新・再発行されています。新しいカードを読み取ってください。"
    ),
    "not_found": N_("カードを読み取れませんでした。カードを選び直してください。"),
}


def error_text(error: MynapointError) -> str:
    """A refusal in the reader's language: what happened and what to do; never a code."""
    if error.code in COUNTER_MESSAGES:
        return _(COUNTER_MESSAGES[error.code])
    if error.code == "wrong_pin" and error.details.get("tries_left") == 0:
        return message_for("wrong_pin") + message_for("card_locked")
    return message_for(error.code, error.details)


def code_text(code: str) -> str:
    if code in COUNTER_MESSAGES:
        return _(COUNTER_MESSAGES[code])
    if code in MESSAGES:
        return message_for(code)
    return code


def measure_name(rules: CampaignRules, measure: Measure | str) -> str:
    try:
        rule = rules.rule(Measure(measure))
    except (KeyError, ValueError):
        return str(measure)
    return rule.name_en if current_locale() == "en" else rule.name_ja


def service_name(service: PaymentService) -> str:
    return service.name_en if current_locale() == "en" else service.name


def service_code_name(catalog: Catalog, code: str) -> str:
    return service_name(catalog.services[code]) if code in catalog else code


def channels_text(service: PaymentService) -> str:
    where = [_(CHANNEL_LABELS[c]) for c in Channel if c in service.channels]
    return _("、").join(where)


def entry_summary(details: Mapping[str, Any], rules: CampaignRules, catalog: Catalog) -> list[str]:
    """The facts of an audit entry worth reading, in words; session ids shortened."""
    parts = [_describe(key, details[key], rules) for key in _SUMMARY_ORDER if key in details]
    account = details.get("service_code")
    if isinstance(account, str):
        text = service_code_name(catalog, account)
        if isinstance(details.get("payment_service_id"), str):
            text += f" {details['payment_service_id']}"
        parts.insert(2, text)
    return [part for part in parts if part]


_SUMMARY_ORDER: Final = (
    "session", "reason", "measure", "holder_name_masked", "representative", "application_id",
    "card_serial", "code", "tries_left", "staff",
)  # fmt: skip


_SUMMARY_TEXTS: Final = {
    "session": N_("手続き {value}"),
    "holder_name_masked": N_("名義 {value}"),
    "application_id": N_("申込み番号 {value}"),
    "card_serial": N_("カード {value}…"),
    "tries_left": N_("暗証番号の残り回数 {value}"),
    "staff": N_("対象の職員 {value}"),
}


def _describe(key: str, value: object, rules: CampaignRules) -> str:
    if key in {"session", "card_serial"} and isinstance(value, str):
        value = value[:8]
    if key in _SUMMARY_TEXTS and isinstance(value, str | int):
        return _(_SUMMARY_TEXTS[key]).format(value=value)
    if key == "reason" and value in {reason.value for reason in EndReason}:
        return _(END_REASON_LABELS[EndReason(str(value))])
    if key == "measure" and isinstance(value, str):
        return measure_name(rules, value)
    if key == "representative" and value is True:
        return _("法定代理人による申込み")
    if key == "code" and isinstance(value, str):
        return code_text(value)
    return ""
