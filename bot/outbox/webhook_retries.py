"""What becomes of a webhook delivery the endpoint did not take: try again after a backoff, or
stop and say what a person has to fix. Pure functions of the endpoint's answer and the time.

Retried: no answer (network errors, timeouts), 5xx, 408 and 429. A Retry-After the endpoint
sends (seconds, or an HTTP date) is honoured; otherwise the wait doubles from 10 s up to an hour,
without jitter: each event's schedule starts at its own moment, and one endpoint's events go one
at a time, so retries never arrive together in a herd. The last try is made 24 hours after the
event (a Retry-After past then is not waited for); after it, the event is marked failed.
Any other answer (a 4xx, a redirect) fails at once: another try would be refused the same way.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from bot.outbox.failures import Fail, Retry

FIRST_WAIT = timedelta(seconds=10)
LONGEST_WAIT = timedelta(hours=1)
WINDOW = timedelta(hours=24)  # from the event; then it is marked failed
# A Retry-After past this is past every event's window: it is read as this much, no more (a huge
# figure would overflow the date).
BEYOND_WINDOW = WINDOW + timedelta(seconds=1)
RETRIED_STATUSES = frozenset({408, 429})


def backoff(attempt: int) -> timedelta:
    """The wait after the `attempt`-th failed try (from 1): 10 s, 20 s, 40 s, … at most an hour."""
    doubled: timedelta = FIRST_WAIT * 2 ** min(max(attempt, 1) - 1, 20)
    return min(LONGEST_WAIT, doubled)


def is_retried(status: int | None) -> bool:
    """None: no answer at all (the network, a timeout)."""
    return status is None or status >= 500 or status in RETRIED_STATUSES


def retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """A Retry-After header as a wait: whole seconds or an HTTP date; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=min(int(value), int(BEYOND_WINDOW.total_seconds())))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return min(BEYOND_WINDOW, max(timedelta(0), when - now))


def after_failure(
    *,
    status: int | None,
    error: str,
    retry_after_header: str | None,
    attempts: int,
    created: datetime,
    now: datetime,
    secret_env: str,
    url: str,
) -> Retry | Fail:
    """What to do after a try that failed: `attempts` tries failed before this one; the event was
    owed at `created`. A Fail's `fix` is the line the log shows."""
    if not is_retried(status):
        assert status is not None
        return Fail(f"http {status}", fix_for(status, secret_env=secret_env, url=url))
    asked = retry_after(retry_after_header, now=now)
    wait = asked or backoff(attempts + 1)
    last_try = created + WINDOW
    if now + wait > last_try and not asked and now < last_try:
        wait = last_try - now  # the backoff's last step lands on the 24 hours' end: one more try then
    if now + wait > last_try or now >= last_try:
        return Fail(
            "gave up",
            f"the endpoint has not taken the event for 24 hours (last: {error}): check that {url} is up; "
            "the event stays in the outbox, marked failed",
        )
    return Retry(wait, error)


def fix_for(status: int, *, secret_env: str, url: str) -> str:
    """The log's line for an answer that is not retried: what to fix, and where."""
    said = f"the endpoint answered {status}"
    if status in (401, 403):
        return f"{said}: check {secret_env} on the receiver (it must hold the secret Leeway signs with)"
    if status in (404, 405, 410):
        return f"{said}: check the url {url} in the policy's webhooks"
    if status == 413:
        return f"{said}: the event was larger than the receiver takes; raise its body limit"
    if 300 <= status < 400:
        return f"{said} (a redirect, which Leeway does not follow): put the final URL in the policy's webhooks"
    return f"{said}: the receiver refused the event; its own log says why"
