"""What becomes of a message Slack refused: plain values in, an outcome out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.outbox.failures import (
    FIXES,
    MAX_ATTEMPTS,
    Fail,
    Hold,
    Outcome,
    Retry,
    classify,
    deferred,
    dropped,
    retry_after_seconds,
    retry_or_give_up,
    warning,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "code", "retry_after", "attempts", "outcome"),
    [
        # Rate limits hold for Retry-After, however many tries came before, and count none.
        (429, "ratelimited", "30", 0, Hold(NOW + timedelta(seconds=30), "ratelimited (retry after 30s)")),
        (429, "ratelimited", "30", MAX_ATTEMPTS, Hold(NOW + timedelta(seconds=30), "ratelimited (retry after 30s)")),
        (429, "unknown_error", None, 0, Hold(NOW + timedelta(seconds=1), "ratelimited (retry after 1s)")),
        (200, "ratelimited", ["7"], 3, Hold(NOW + timedelta(seconds=7), "ratelimited (retry after 7s)")),
        # What a person has to fix fails at once, with the fix.
        (
            200,
            "not_in_channel",
            None,
            0,
            Fail("not_in_channel", "invite @Leeway to <#C0DEC> (type /invite @Leeway in the channel)"),
        ),
        (
            200,
            "channel_not_found",
            None,
            5,
            Fail("channel_not_found", FIXES["channel_not_found"].format(channel="C0DEC")),
        ),
        (200, "invalid_auth", None, 0, Fail("invalid_auth", "check SLACK_BOT_TOKEN: Slack does not accept it")),
        # Anything else is tried again, backing off, until the last attempt.
        (500, "internal_error", None, 0, Retry(timedelta(seconds=2), "internal_error")),
        (200, "fatal_error", None, 3, Retry(timedelta(seconds=16), "fatal_error")),
        (503, "service_unavailable", None, 8, Retry(timedelta(seconds=300), "service_unavailable")),
        (500, "internal_error", None, MAX_ATTEMPTS - 2, Retry(timedelta(seconds=300), "internal_error")),
        (500, "internal_error", None, MAX_ATTEMPTS - 1, Fail("internal_error", "gave up after 12 attempts")),
    ],
)
def test_a_refusal_is_held_failed_or_retried(
    status: int, code: str, retry_after: str | list[str] | None, attempts: int, outcome: Outcome
) -> None:
    got = classify(status=status, code=code, retry_after=retry_after, attempts=attempts, channel="C0DEC", now=NOW)
    assert got == outcome


@pytest.mark.parametrize(
    ("attempts", "outcome"),
    [
        (0, Retry(timedelta(seconds=2), "ConnectionError: down")),
        (1, Retry(timedelta(seconds=4), "ConnectionError: down")),
        (7, Retry(timedelta(seconds=256), "ConnectionError: down")),
        (8, Retry(timedelta(seconds=300), "ConnectionError: down")),
        (10, Retry(timedelta(seconds=300), "ConnectionError: down")),
        (11, Fail("ConnectionError: down", "gave up after 12 attempts")),
        (20, Fail("ConnectionError: down", "gave up after 21 attempts")),
    ],
)
def test_retries_back_off_and_give_up(attempts: int, outcome: Outcome) -> None:
    assert retry_or_give_up("ConnectionError: down", attempts=attempts) == outcome


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30", 30),
        ("1", 1),
        ("0", 1),
        ("-5", 1),
        (["12"], 12),
        ([], 1),
        (None, 1),
        ("soon", 1),
        ("2.5", 1),
    ],
)
def test_retry_after_is_whole_seconds_and_at_least_one(value: str | list[str] | None, seconds: int) -> None:
    assert retry_after_seconds(value) == seconds


@pytest.mark.parametrize(
    ("until", "delay"),
    [
        (None, timedelta(milliseconds=300)),
        (NOW - timedelta(seconds=5), timedelta(milliseconds=300)),
        (NOW + timedelta(milliseconds=100), timedelta(milliseconds=300)),
        (NOW + timedelta(seconds=4), timedelta(seconds=4)),
    ],
)
def test_a_deferred_message_waits_for_its_time_and_counts_no_try(until: datetime | None, delay: timedelta) -> None:
    assert deferred("not posted yet", until=until, now=NOW) == Retry(delay, "not posted yet", counted=False)


def test_a_dropped_message_fails_without_a_warning() -> None:
    assert dropped("its proposal no longer exists") == Fail("dropped", "its proposal no longer exists", warn=False)


def test_the_proposer_is_told_what_to_fix() -> None:
    failure = Fail("not_in_channel", FIXES["not_in_channel"].format(channel="C0DEC"))
    assert warning(failure, channel="C0DEC") == (
        ":warning: Leeway couldn't post to <#C0DEC> (not_in_channel). To fix it: invite @Leeway to <#C0DEC> "
        "(type /invite @Leeway in the channel). Your decision itself is recorded and safe."
    )
