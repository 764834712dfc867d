"""Grant windows as owners type them: durations and dates, UTC unless told otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from secondme.errors import InvalidArgument
from secondme.permissions import parse_moment

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", NOW + timedelta(days=30)),
        ("12h", NOW + timedelta(hours=12)),
        (" 90m ", NOW + timedelta(minutes=90)),
        ("2w", NOW + timedelta(weeks=2)),
        ("2026-12-31", datetime(2026, 12, 31, tzinfo=UTC)),
        ("2026-12-31T18:00", datetime(2026, 12, 31, 18, tzinfo=UTC)),
        ("2026-12-31T18:00+02:00", datetime(2026, 12, 31, 16, tzinfo=UTC)),
    ],
)
def test_durations_and_dates_are_accepted(text: str, expected: datetime) -> None:
    assert parse_moment(text, NOW) == expected


@pytest.mark.parametrize("text", ["soon", "30", "d30", "-5d", "99999999d", ""])
def test_unreadable_times_say_what_is_accepted(text: str) -> None:
    with pytest.raises(InvalidArgument, match=r"duration|ten years"):
        parse_moment(text, NOW)
