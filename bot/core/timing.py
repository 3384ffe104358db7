"""Durations and working hours. Outside working hours no one is pinged and the clocks pause."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DURATION = re.compile(r"^\s*([0-9]{1,6})\s*(s|m|h|d)\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# No schedule skips more than this: it bounds every search for the next open moment.
_MAX_DAYS_SEARCHED = 14


def parse_duration(text: str) -> timedelta:
    """`90s`, `10m`, `2h`, `1d` → a positive timedelta, else ValueError saying how to write it."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration; write it like 90s, 10m, 2h or 1d")
    value = timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})
    if value <= timedelta(0):
        raise ValueError("must be longer than zero")
    return value


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_days(text: str) -> frozenset[int]:
    """`mon-fri`, `mon,wed,fri`, `sat-sun` → weekday numbers (Monday is 0)."""
    days: set[int] = set()
    for part in str(text).lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise ValueError(f"{text!r}: write days like mon-fri or mon,wed,fri")
        start, end = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        if end < start:
            raise ValueError(f"{part!r}: a range runs forward, like mon-fri")
        days.update(range(start, end + 1))
    return frozenset(days)


def parse_clock(text: str | int) -> time:
    if isinstance(text, int):  # YAML reads an unquoted 09:00 as a number of minutes (540)
        raise ValueError(f'{text} is not a time of day: put the time in quotes, like "09:00"')
    match = re.fullmatch(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a time of day; write it like 09:00")
    return time(int(match.group(1)), int(match.group(2)))


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone; use a name like Europe/Warsaw or UTC") from None


@dataclass(frozen=True)
class WorkingHours:
    tz: ZoneInfo
    days: frozenset[int]
    opens: time
    closes: time

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        if day.weekday() not in self.days:
            return None
        return (datetime.combine(day, self.opens, tzinfo=self.tz), datetime.combine(day, self.closes, tzinfo=self.tz))

    def is_open(self, at: datetime) -> bool:
        window = self._window(at.astimezone(self.tz).date())
        return window is not None and window[0] <= at < window[1]

    def next_open(self, at: datetime) -> datetime:
        """`at` itself when open, else the next moment working hours begin."""
        local_day = at.astimezone(self.tz).date()
        for offset in range(_MAX_DAYS_SEARCHED):
            window = self._window(local_day + timedelta(days=offset))
            if window is None or at >= window[1]:
                continue
            return max(at, window[0]).astimezone(at.tzinfo)
        raise ValueError("working hours never open")  # pragma: no cover - days is never empty

    def open_between(self, start: datetime, end: datetime) -> timedelta:
        """How much of `start` to `end` fell inside working hours."""
        total, first = timedelta(), start.astimezone(self.tz).date()
        for offset in range(max(0, (end - start).days) + 2):
            window = self._window(first + timedelta(days=offset))
            if window is not None:
                total += max(timedelta(), min(end, window[1]) - max(start, window[0]))
        return total

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """`start` plus `duration` of working time: the clock only runs while open."""
        cursor, remaining = self.next_open(start), duration
        for _ in range(int(duration.total_seconds() // 60) + _MAX_DAYS_SEARCHED + 2):
            window = self._window(cursor.astimezone(self.tz).date())
            assert window is not None
            available = window[1] - cursor
            if remaining <= available:
                return (cursor + remaining).astimezone(start.tzinfo)
            remaining -= available
            cursor = self.next_open(window[1])
        raise ValueError("duration too long for these working hours")  # pragma: no cover


def working_seconds_between(start: datetime, end: datetime, hours: WorkingHours | None) -> int:
    """Whole seconds from `start` to `end` while working hours were open (all of them without
    working hours): a request that waited over a weekend took the minutes someone could answer."""
    if end <= start:
        return 0
    return int(((end - start) if hours is None else hours.open_between(start, end)).total_seconds())


def add_working_time(start: datetime, duration: timedelta, hours: WorkingHours | None) -> datetime:
    return start + duration if hours is None else hours.add(start, duration)


def next_open(at: datetime, hours: WorkingHours | None) -> datetime:
    return at if hours is None else hours.next_open(at)
