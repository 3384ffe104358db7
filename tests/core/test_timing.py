from datetime import UTC, datetime, timedelta

import pytest

from bot.core.timing import (
    WorkingHours,
    add_working_time,
    format_duration,
    parse_days,
    parse_duration,
    working_seconds_between,
    zone,
)
from bot.policy_file import PolicyError, parse_policy
from tests.policies import TEAM_POLICY

WARSAW = zone("Europe/Warsaw")
HOURS = WorkingHours(
    tz=WARSAW, days=parse_days("mon-fri"), opens=datetime(2000, 1, 1, 9).time(), closes=datetime(2000, 1, 1, 18).time()
)


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=WARSAW)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("90s", timedelta(seconds=90)),
        ("10m", timedelta(minutes=10)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        (" 4H ", timedelta(hours=4)),
    ],
)
def test_durations(text: str, value: timedelta) -> None:
    assert parse_duration(text) == value


@pytest.mark.parametrize("text", ["", "10", "ten minutes", "-5m", "0m", "1.5h", "5w"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a duration|longer than zero"):
        parse_duration(text)


def test_durations_read_back() -> None:
    assert [format_duration(parse_duration(t)) for t in ("90s", "10m", "2h", "1d", "120m")] == [
        "90s",
        "10m",
        "2h",
        "1d",
        "2h",
    ]


def test_days() -> None:
    assert parse_days("mon-fri") == {0, 1, 2, 3, 4}
    assert parse_days("mon,wed,sat-sun") == {0, 2, 5, 6}
    with pytest.raises(ValueError, match="a range runs forward"):
        parse_days("fri-mon")


# 2026-11-24 is a Tuesday; 2026-11-27 a Friday.
@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        (local(24, 10), timedelta(minutes=10), local(24, 10, 10)),  # inside hours: plain addition
        (local(24, 17, 55), timedelta(minutes=10), local(25, 9, 5)),  # pauses overnight
        (local(24, 7, 0), timedelta(minutes=10), local(24, 9, 10)),  # starts when the day does
        (local(27, 17, 0), timedelta(hours=2), local(30, 10, 0)),  # pauses over the weekend
        (local(28, 12, 0), timedelta(minutes=30), local(30, 9, 30)),  # proposed on a Saturday
        (local(24, 10), timedelta(hours=4), local(24, 14)),
        (local(24, 16), timedelta(hours=4), local(25, 11)),
    ],
)
def test_clocks_pause_outside_working_hours(start: datetime, duration: timedelta, due: datetime) -> None:
    assert add_working_time(start.astimezone(UTC), duration, HOURS) == due.astimezone(UTC)


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        (local(24, 10), local(24, 10, 10), 10),  # inside hours: the clock
        (local(24, 17, 55), local(25, 9, 5), 10),  # the night doesn't count
        (local(27, 17, 50), local(30, 9, 10), 20),  # nor the weekend
        (local(28, 12, 0), local(28, 15, 0), 0),  # asked and answered on a Saturday
        (local(24, 7, 0), local(24, 9, 30), 30),  # before the day began
        (local(24, 10), local(26, 10), 18 * 60),  # two whole working days
        (local(24, 10, 10), local(24, 10), 0),  # never below nothing
    ],
)
def test_time_to_decision_counts_working_hours_only(start: datetime, end: datetime, minutes: int) -> None:
    assert working_seconds_between(start.astimezone(UTC), end.astimezone(UTC), HOURS) == minutes * 60
    if minutes:
        assert working_seconds_between(start, end, None) == int((end - start).total_seconds())


def test_working_hours_follow_daylight_saving() -> None:
    # Warsaw leaves summer time on 2026-10-25: 09:00 local is 07:00 UTC before and 08:00 UTC after.
    friday = datetime(2026, 10, 23, 17, 50, tzinfo=WARSAW)
    due = add_working_time(friday.astimezone(UTC), timedelta(minutes=20), HOURS)
    assert due == datetime(2026, 10, 26, 8, 10, tzinfo=UTC)


def test_without_working_hours_time_just_runs() -> None:
    start = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
    assert add_working_time(start, timedelta(hours=2), None) == start + timedelta(hours=2)


def test_policy_keys_for_timing() -> None:
    policy = parse_policy(
        TEAM_POLICY + "reroute_after: 90s\nexpire_after: 2h\nworking_hours: "
        '{tz: Europe/Warsaw, days: mon-fri, from: "09:00", to: "18:00"}\n'
    )
    assert policy.reroute_after == timedelta(seconds=90)
    assert policy.expire_after == timedelta(hours=2)
    assert policy.hours == HOURS
    default = parse_policy(TEAM_POLICY)
    assert (default.reroute_after, default.expire_after, default.hours) == (
        timedelta(minutes=10),
        timedelta(hours=4),
        None,
    )


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ("reroute_after: soon\n", "line 28: reroute_after: 'soon' is not a duration"),
        ('working_hours: {tz: Mars/Base, from: "09:00", to: "18:00"}\n', "'Mars/Base' is not a time zone"),
        ('working_hours: {tz: UTC, from: "18:00", to: "09:00"}\n', "to (09:00) must be later than from (18:00)"),
        ('working_hours: {tz: UTC, days: weekdays, from: "09:00", to: "18:00"}\n', "write days like mon-fri"),
        ('working_hours: {tz: UTC, from: "9am", to: "18:00"}\n', "write it like 09:00"),
    ],
)
def test_bad_timing_keys_name_the_problem(extra: str, says: str) -> None:
    with pytest.raises(PolicyError, match=None) as raised:
        parse_policy(TEAM_POLICY + extra, source="policy.yml")
    assert says in str(raised.value)


def test_unquoted_times_and_short_expiry_are_explained() -> None:
    with pytest.raises(PolicyError, match="put the time in quotes"):
        parse_policy(TEAM_POLICY + 'working_hours: {tz: UTC, from: 9:00, to: "18:00"}\n')  # YAML: 540
    with pytest.raises(PolicyError, match=r"expire_after .* must be longer than reroute_after"):
        parse_policy(TEAM_POLICY + "reroute_after: 2h\nexpire_after: 1h\n")
