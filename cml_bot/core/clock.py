"""UTC time as cml-bot writes it everywhere: ``2026-12-02T10:37:44Z``, to the second."""

from __future__ import annotations

from datetime import datetime, timezone

ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"


def utc_now() -> datetime:
    """Now, timezone-aware UTC, to the second (what reports and registry records show)."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def iso_utc(moment: datetime | float | None = None) -> str:
    """``moment`` (a datetime, naive ones taken as UTC; or a POSIX timestamp in seconds; or now)
    as ``YYYY-MM-DDTHH:MM:SSZ``."""
    if moment is None:
        moment = utc_now()
    elif isinstance(moment, (int, float)):
        moment = datetime.fromtimestamp(moment, timezone.utc)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime(ISO_UTC)
