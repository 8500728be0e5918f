"""Money is integer fen inside, two-decimal yuan strings at the edges. Never floats."""

import re

_YUAN = re.compile(r"^(-?)(\d{1,15})(?:\.(\d{1,2}))?$")


def parse_yuan(text: str) -> int:
    """'4999.50' -> 499950 fen. Raises ValueError for anything not a plain decimal in yuan."""
    if not isinstance(text, str):
        raise ValueError("amount must be a decimal string in yuan, e.g. \"4999.50\"")
    m = _YUAN.match(text.strip())
    if not m:
        raise ValueError("amount must be a decimal string in yuan with at most two decimals")
    sign, whole, frac = m.groups()
    fen = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
    return -fen if sign else fen


def format_fen(fen: int | None) -> str | None:
    """499950 -> '4999.50'."""
    if fen is None:
        return None
    sign = "-" if fen < 0 else ""
    whole, frac = divmod(abs(int(fen)), 100)
    return f"{sign}{whole}.{frac:02d}"
