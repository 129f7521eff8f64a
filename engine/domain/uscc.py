"""统一社会信用代码 (Unified Social Credit Code) checks per GB 32100-2015."""

from __future__ import annotations

import re

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
PATTERN = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")

ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def normalize(code: str) -> str:
    """Remove all whitespace and upper-case."""
    return "".join(str(code).split()).upper()


def uscc_check_char(first17: str) -> str:
    """Check character (position 18) for the first 17 characters."""
    body = normalize(first17)
    if len(body) != 17 or any(c not in CHARSET for c in body):
        raise ValueError("expected 17 characters from the USCC charset")
    total = sum(CHARSET.index(c) * w for c, w in zip(body, WEIGHTS))
    return CHARSET[(31 - total % 31) % 31]


def uscc_error(code: str) -> str | None:
    """None when valid, else "length", "charset" or "check_digit"."""
    value = normalize(code)
    if len(value) != 18:
        return "length"
    if not PATTERN.fullmatch(value):
        return "charset"
    if uscc_check_char(value[:17]) != value[17]:
        return "check_digit"
    return None


def is_valid_uscc(code: str) -> bool:
    return uscc_error(code) is None


def org_code_check_char(first8: str) -> str:
    """GB 11714 check character for an 8-character organisation code body."""
    total = sum(ORG_ALPHABET.index(c) * w for c, w in zip(first8, ORG_WEIGHTS))
    c = 11 - total % 11
    return {10: "X", 11: "0"}.get(c, str(c))


def org_code_warning(code: str) -> bool:
    """True when positions 9-17 fail the GB 11714 check (or cannot be checked).

    Advisory only: some early pilot-region codes do not follow GB 11714.
    """
    value = normalize(code)
    if len(value) != 18:
        return True
    org = value[8:17]
    if any(c not in ORG_ALPHABET for c in org[:8]):
        return True
    return org_code_check_char(org[:8]) != org[8]
