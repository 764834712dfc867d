"""Owner-friendly times for grant windows: `30d`, `12h`, `90m`, `2w`, or an absolute date.

Relative forms count from `now`; absolute forms are ISO 8601 (`2026-12-31`, `2026-12-31T18:00`,
with or without offset; without one they are read as UTC so a grant never depends on the
machine's local timezone setting).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from secondme.errors import InvalidArgument

_RELATIVE = re.compile(r"(\d{1,6})\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_RELATIVE = timedelta(days=3650)


def parse_moment(text: str, now: datetime) -> datetime:
    """A timezone-aware UTC datetime; raises InvalidArgument with an example of what is accepted."""
    cleaned = text.strip().lower()
    match = _RELATIVE.fullmatch(cleaned)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        delta = timedelta(**{_UNITS[unit]: amount})
        if delta > MAX_RELATIVE:
            raise InvalidArgument(f"{text!r} is more than ten years away")
        return now.astimezone(UTC) + delta
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidArgument(
            f"{text!r} is neither a duration (30d, 12h, 90m, 2w) nor a date (2026-12-31 or 2026-12-31T18:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
