"""Errors of a page form: a sentence next to each field, and a summary at the top.

Keys are the ids of the fields the sentence belongs to (the summary links to them and the
field names the sentence with aria-describedby); `FORM` is for what belongs to no field.
"""

from __future__ import annotations

from typing import Final

FORM: Final = "form"

FieldErrors = dict[str, str]
