"""What a person types into a page, read as they meant it: before a form's value is checked.

A citizen or a clerk types with a Japanese input method: digits come full-width (１２３４), the
space between groups is an ideographic space, a hyphen is ー or －, and IDs are copied from
an app in groups (1234 5678 9012 3456). Unicode NFKC gives the plain form of each character
(full-width digits and letters, the ideographic space); separators inside an ID or a code are
dropped when the catalog's format has no room for them, so a code that may contain a hyphen
(a d払い password, say) keeps it.

Only the pages read input this way. The API and the event files take ASCII exactly as sent
(INTERFACES: one rule for CSV and JSON, and operators are programs): `web/inputs.py` refuses
an identifier not in its plain form there, and no page calls this module for the API.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Annotated, Final

from pydantic import AfterValidator

from mynapoint.domain.services import CodeFormat
from mynapoint.web.inputs import Text

# After NFKC: spaces, and the hyphens and dashes an input method or a copied text gives
# (ASCII -, U+2010..U+2015 hyphens and dashes, U+2212 minus, U+30FC the long-vowel mark ー,
# which NFKC leaves alone and which Japanese keyboards give for the - key).
SEPARATORS: Final = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc]+")
# How a service with several security codes takes them in one field (services/codes.py).
JOINED_BY: Final = "-"


def plain(value: str) -> str:
    """NFKC and trimmed: full-width digits and letters become ASCII, ideographic spaces spaces."""
    return unicodedata.normalize("NFKC", value).strip()


def typed_code(value: str, formats: Sequence[CodeFormat]) -> str:
    """A 決済サービスID or security code(s) as typed, in the form the catalog's formats take.

    Tried in order, the first the formats accept wins: the plain value; without separators;
    for several codes, the groups joined by `-`. Nothing fits: the plain value, which the
    format check then refuses with the expected form.
    """
    typed = plain(value)
    if not formats:
        return typed
    groups = [group for group in SEPARATORS.split(typed) if group]
    candidates = [typed, "".join(groups)]
    if len(formats) > 1:
        candidates.append(JOINED_BY.join(groups))
    for candidate in candidates:
        if _fits(candidate, formats):
            return candidate
    return typed


def typed_digits(value: str) -> str:
    """A number typed on a page (a PIN): NFKC, and no spaces or hyphens between its digits."""
    return "".join(group for group in SEPARATORS.split(plain(value)) if group)


def _fits(value: str, formats: Sequence[CodeFormat]) -> bool:
    parts = value.split(JOINED_BY) if len(formats) > 1 else [value]
    return len(parts) == len(formats) and all(
        code.matches(part) for code, part in zip(formats, parts, strict=True)
    )


# A form field holding a number a person types (a PIN): read as its ASCII digits.
TypedDigits = Annotated[Text, AfterValidator(typed_digits)]
