"""French formatting for the site: numbers with narrow no-break spaces, euros, dates, percentages."""

from __future__ import annotations

from datetime import date

MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
NNBSP = "\u202f"


def nombre(value: float | int) -> str:
    """12345 -> '12 345'; 71.5 -> '71,5'."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", NNBSP).replace(".", ",")
    return f"{int(value):,}".replace(",", NNBSP)


def euros(value: float | int | None, unit: str = "") -> str:
    """1339 -> '1 339 €' (a dash when there is no value)."""
    if value is None:
        return "—"
    return f"{nombre(value)}{NNBSP}€{unit}"


def pct(value: float) -> str:
    """3.14 -> '+3,1 %'."""
    sign = "+" if value > 0 else ("−" if value < 0 else "")
    return f"{sign}{abs(value):.1f}".replace(".", ",") + f"{NNBSP}%"


def date_fr(value: str) -> str:
    """'2021-01-01' -> '1er janvier 2021'."""
    d = date.fromisoformat(value)
    return f"{d.day}{'er' if d.day == 1 else ''} {MONTHS[d.month - 1]} {d.year}"
