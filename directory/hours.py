"""Opening hours in OpenStreetMap syntax, evaluated with opening-hours-py (French public holidays)."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from opening_hours import OpeningHours

from .errors import DirectoryError

__all__ = ["HoursError", "PARIS", "validate_hours", "open_now", "next_change"]

PARIS = ZoneInfo("Europe/Paris")


class HoursError(DirectoryError):
    code = "invalid_hours"


@lru_cache(maxsize=4096)
def _parse(hours: str) -> OpeningHours:
    return OpeningHours(hours, timezone=PARIS, country="FR")


def validate_hours(hours: object) -> str:
    if not isinstance(hours, str) or not hours.strip():
        raise HoursError("les horaires doivent être un texte au format OpenStreetMap, par exemple « Mo-Fr 09:00-17:00; PH off »")
    try:
        _parse(hours.strip())
    except Exception:
        raise HoursError(
            f"horaires « {hours} » illisibles : utilisez le format OpenStreetMap, par exemple « Mo-Fr 09:00-17:00; PH off » ou « 24/7 »"
        ) from None
    return hours.strip()


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(PARIS)
    return now if now.tzinfo else now.replace(tzinfo=PARIS)


def open_now(hours: str | None, now: datetime | None = None) -> bool | None:
    """True/False when the hours are known, None when they are not (or cannot be decided)."""
    if not hours:
        return None
    oh = _parse(hours)
    at = _aware(now)
    if oh.is_unknown(at):
        return None
    return bool(oh.is_open(at))


def next_change(hours: str | None, now: datetime | None = None) -> datetime | None:
    if not hours:
        return None
    return _parse(hours).next_change(_aware(now))
