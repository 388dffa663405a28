"""Placeholder text: the gaps a model leaves instead of writing a realistic value.

"Contact us at [company email]", "Dear <customer name>", "call {phone}", "Lorem ipsum",
"order XXXX", "support@example.com" (a domain reserved for examples), "+1-800-123-4567".
A test case with a gap in it tests nothing, so a sample holding one is refused — unless
the seeds themselves use that form (a dataset of prompt templates may legitimately hold
``{name}``).
"""

import re
from collections.abc import Iterable

_PATTERNS = (
    # [company email], [Your Name], [insert date]
    re.compile(r"\[(?:[A-Za-z][A-Za-z_ .'-]{1,40})\]"),
    # <customer name>, <first_name>, <PHONE NUMBER> (not HTML tags: they have no space/_ )
    re.compile(r"<[A-Za-z][A-Za-z]*[ _][A-Za-z _]{1,30}>"),
    # {phone}, {{customer_name}}
    re.compile(r"\{\{?\s*[A-Za-z_][A-Za-z0-9_ ]{0,30}\s*\}?\}"),
    re.compile(r"\blorem ipsum\b", re.IGNORECASE),
    # XXX, xxxx-xxxx, ###-####: masked digits or letters standing for a value
    re.compile(r"\b[Xx]{3,}\b|\b(?:[Xx#]{2,}-)+[Xx#]{2,}\b|#{3,}"),
    re.compile(r"\b(?:TBD|TODO|PLACEHOLDER)\b"),
    # +1-800-123-4567, 555-0123: the counting and the 555 numbers of made-up phone numbers
    re.compile(r"(?<!\d)123[-. ]?456[-. ]?7|(?<!\d)555[-. ]\d{4}(?!\d)"),
    # support@example.com, www.example.org: the domains reserved for documentation
    re.compile(r"(?<![\w-])example\.(?:com|org|net)\b", re.IGNORECASE),
)


def placeholders_in(text: str) -> list[str]:
    """Every placeholder found in ``text``, as written."""
    return [match.group(0) for pattern in _PATTERNS for match in pattern.finditer(text)]


class PlaceholderCheck:
    """Finds placeholders in a sample's text that the seeds never use."""

    def __init__(self, seed_texts: Iterable[str]) -> None:
        self._allowed = {found.casefold() for text in seed_texts for found in placeholders_in(text)}

    def first(self, text: str) -> str | None:
        for found in placeholders_in(text):
            if found.casefold() not in self._allowed:
                return found
        return None
