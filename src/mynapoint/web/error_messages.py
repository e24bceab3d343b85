"""What a citizen or a counter clerk reads for each stable error code: words, never codes.

The API answers with codes (INTERFACES.md); the pages turn them into a sentence in the
reader's language that says what happened and what to do. `message_for` also fills in
what the details carry (tries left on the card, the moment a waiting time ends).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from contextlib import suppress
from datetime import date, datetime
from typing import Any

from mynapoint.web.i18n import N_, _, date_time, long_date, ngettext

MESSAGES: dict[str, str] = {
    "malformed_request": N_("入力内容を読み取れませんでした。もう一度入力してください。"),
    "invalid_request": N_("入力内容に誤りがあります。赤字の項目を確認してください。"),
    "not_authenticated": N_("ログインしてください。"),
    "invalid_token": N_("ログインの有効期限が切れました。もう一度ログインしてください。"),
    "token_expired": N_("ログインの有効期限が切れました。もう一度ログインしてください。"),
    "unknown_challenge": N_("読み取りの有効期限が切れました。もう一度カードを読み取ってください。"),
    "challenge_expired": N_("読み取りの有効期限が切れました。もう一度カードを読み取ってください。"),
    "challenge_used": N_("この読み取りは使用済みです。もう一度カードを読み取ってください。"),
    "invalid_signature": N_(
        "カードの署名を確認できませんでした。もう一度カードを読み取ってください。"
    ),
    "untrusted_certificate": N_(
        "このカードの電子証明書は確認できませんでした。マイナンバーカードをお使いください。"
    ),
    "certificate_revoked": N_(
        "このカードの電子証明書は失効しています。お住まいの市区町村の窓口にご相談ください。"
    ),
    "certificate_expired": N_(
        "このカードの電子証明書は有効期限が切れています。市区町村の窓口で更新してください。"
    ),
    "certificate_not_yet_valid": N_("このカードの電子証明書はまだ有効になっていません。"),
    "revocation_list_stale": N_(
        "電子証明書の失効情報を確認できないため、現在カードでの本人確認ができません。"
        "しばらくしてからもう一度お試しください。"
    ),
    "wrong_pin": N_("暗証番号が違います。"),
    "card_locked": N_(
        "暗証番号を続けて間違えたため、カードがロックされました。"
        "市区町村の窓口で暗証番号の再設定をしてください。"
    ),
    "invalid_pin": N_("暗証番号は数字4桁で入力してください。"),
    "invalid_card_file": N_("カードを読み取れませんでした。カードを選び直してください。"),
    "not_eligible": N_("このマイナポイントの対象となる条件を満たしていません。"),
    "not_your_service": N_("この決済サービスは扱えません。"),
    "not_legal_representative": N_("法定代理人であることを確認できませんでした。"),
    "forbidden": N_("この操作を行う権限がありません。"),
    "not_found": N_("お探しの情報は見つかりませんでした。"),
    "unknown_service": N_("その決済サービスは見つかりませんでした。"),
    "method_not_allowed": N_("この操作はできません。"),
    "mykey_required": N_("先にマイキーIDを設定してください。"),
    "already_applied": N_(
        "このマイナポイントはすでに申し込まれています。申込みは1人1回で、変更はできません。"
    ),
    "account_taken": N_(
        "この決済サービスIDは別の方の申込みに使われています。ご自身の決済サービスIDか確認してください。"
    ),
    "waiting_period": N_(
        "電子証明書の発行・更新の直後のため、まだ申し込めません。しばらくしてからお試しください。"
    ),
    "application_window_closed": N_("現在は申込みの受付期間外です。"),
    "service_not_accepting": N_("この決済サービスは現在申込みを受け付けていません。"),
    "channel_not_allowed": N_(
        "この決済サービスは、ここでは申し込めません。決済サービスのアプリまたは店頭でお申し込みください。"
    ),
    "cancellation_not_allowed": N_("申込みの取消しは、申し込んだ当日のみできます。"),
    "representative_not_allowed": N_("この申込みは代理人による手続きができません。"),
    "representative_required": N_(
        "15歳未満の方は、ご本人だけでは申し込めません。法定代理人(親権者など)が、"
        "ご自身のマイナンバーカードも読み取って申し込みます。"
    ),
    "budget_frame_reached": N_("予算の上限に達したため、受付を終了しました。"),
    "batch_too_large": N_("一度に送信できる件数を超えています。"),
    "request_too_large": N_(
        "送信した内容が大きすぎます。ファイルを選び直すか、内容を減らしてもう一度お試しください。"
    ),
    "invalid_text": N_(
        "入力内容に使えない文字(制御文字や目に見えない文字)が含まれています。入力し直してください。"
    ),
    "instant_out_of_range": N_("日時が受け付けられる範囲の外です。日時を確認してください。"),
    "invalid_account_credentials": N_(
        "決済サービスIDまたはセキュリティコードが違います。決済サービスのアプリ等で確認してください。"
    ),
    # What earns points (counts: charge or purchase) does not fit the service and measure
    # (INTERFACES: "what a service counts"); never a number of anything.
    "invalid_counts": N_(
        "ポイントの対象(チャージかお買い物か)の選択が、この決済サービスとマイナポイントに合っていません。"
    ),
    "account_locked": N_(
        "セキュリティコードを5回続けて間違えたため、この決済サービスIDでのお手続きを"
        "しばらくお受けできません。"
    ),
    "rate_limited": N_("短時間に操作が集中しています。少し待ってからお試しください。"),
    "internal_error": N_("システムで問題が発生しました。時間をおいてもう一度お試しください。"),
    "unavailable": N_("ただいま混み合っています。時間をおいてもう一度お試しください。"),
    "overloaded": N_("ただいま混み合っています。時間をおいてもう一度お試しください。"),
    "statistics_not_computed": N_(
        "統計はまだ集計されていません。しばらくしてからもう一度ご覧ください。"
    ),
    "invalid_date_range": N_(
        "期間の開始日が終了日より後になっています。開始日は終了日以前にしてください。"
    ),
}

# A ward of full age: said as such (domain/representatives.py RepresentedBecause).
_WARD = N_(
    "成年被後見人の方は、ご本人だけでは申し込めません。成年後見人(法定代理人)が、"
    "ご自身のマイナンバーカードも読み取って申し込みます。"
)
# The card cut-off of a measure (RULES.md R10, R12), with the card's own application day.
_CARD_CUTOFF = N_(
    "{by}までにマイナンバーカードを申請した方が対象です。"
    "このカードの申請日は{on}のため、申し込めません。"
)
_UNTIL = N_("{at}以降にお申し込みいただけます。")
_RETRY_IN = N_("約{minutes}分後にもう一度お試しください。")
_PICK_ONE = N_("チャージかお買い物のどちらかを選んでください。")
_PICK_NONE = N_("この組み合わせでは選べません。選択をはずしてください。")


def message_for(code: str, details: Mapping[str, Any] | None = None) -> str:
    """The sentence for `code` in the reader's language; an unknown code reads as a failure."""
    details = details or {}
    if code == "representative_required" and details.get("reason") == "adult_ward":
        return _(_WARD)
    applied_by, applied_on = details.get("card_applied_by"), details.get("card_applied_on")
    if code == "not_eligible" and isinstance(applied_by, str) and isinstance(applied_on, str):
        with suppress(ValueError):
            return _(_CARD_CUTOFF).format(
                by=long_date(date.fromisoformat(applied_by)),
                on=long_date(date.fromisoformat(applied_on)),
            )
    text = _(MESSAGES.get(code, MESSAGES["internal_error"]))
    tries = details.get("tries_left")
    if code == "wrong_pin" and isinstance(tries, int) and tries > 0:
        text += ngettext(
            "あと{tries}回間違えるとカードがロックされます。",
            "あと{tries}回間違えるとカードがロックされます。",
            tries,
        ).format(tries=tries)
    wait = details.get("retry_after_seconds")
    if code in {"account_locked", "rate_limited"} and isinstance(wait, int) and wait > 0:
        text += _(_RETRY_IN).format(minutes=math.ceil(wait / 60))
    if code == "invalid_counts" and "given" in details:
        pick = _PICK_ONE if details["given"] is None else _PICK_NONE
        text += _(pick)
    until = details.get("applies_from")
    if code == "waiting_period" and isinstance(until, str):
        with suppress(ValueError):
            text += _(_UNTIL).format(at=date_time(datetime.fromisoformat(until)))
    return text
