"""Identifiers: unified social credit code, resident ID number, teacher certificate number."""

import re

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

_CERT = re.compile(r"^\d{17}$")


def clean_uscc(value: str) -> str:
    """The compact, upper-case USCC; ValueError with a readable reason when invalid."""
    try:
        return uscc.validate(value.strip().upper())
    except ValidationError as exc:
        raise ValueError(f"not a valid unified social credit code: {_reason(exc)}") from None


def clean_ric(value: str) -> str:
    try:
        return ric.validate(value.strip().upper())
    except ValidationError as exc:
        raise ValueError(f"not a valid resident ID number: {_reason(exc)}") from None


def mask_ric(value: str | None) -> str | None:
    """330106********123X: region code and the last four kept, the birth date hidden."""
    if not value:
        return value
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def clean_teacher_cert(value: str) -> str:
    value = value.strip()
    if not _CERT.match(value):
        raise ValueError("a teacher qualification certificate number has 17 digits")
    return value


def uscc_with_check(body17: str) -> str:
    """Complete 17 characters with the GB 32100 check character."""
    return body17 + uscc.calc_check_digit(body17)


def _reason(exc: ValidationError) -> str:
    return {
        "InvalidLength": "it must have 18 characters",
        "InvalidFormat": "it has characters not allowed there",
        "InvalidChecksum": "the check character does not match",
        "InvalidComponent": "a part of it is not valid",
    }.get(type(exc).__name__, str(exc))
