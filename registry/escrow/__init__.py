"""Every way money enters or leaves custody: accounts, the ledger, alerts, webhooks, pulls."""


def mask_account(number: str | None) -> str | None:
    """'6222021234567890123' -> '6222***********0123': enough to recognise, not to use."""
    if number is None:
        return None
    if len(number) <= 8:
        return "*" * max(len(number) - 4, 0) + number[-4:]
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
