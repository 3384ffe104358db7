"""What becomes of a message that did not go: Slack's refusals classified (retry after a backoff,
hold the channel for a rate limit, or fail with the fix a person has to make), as pure functions
of what Slack answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_ATTEMPTS = 12
# A message Leeway could not build yet (its request not posted) looks again after at least this.
DEFER_AT_LEAST = timedelta(milliseconds=300)
# Errors that another try cannot fix: a person has to. The fix goes to the log and the proposer.
FIXES: dict[str, str] = {
    "not_in_channel": "invite @Leeway to <#{channel}> (type /invite @Leeway in the channel)",
    "channel_not_found": "check the channel ID {channel} in the policy file, and invite @Leeway to it if it is private",
    "is_archived": "unarchive <#{channel}> or point the policy at another channel",
    "invalid_auth": "check SLACK_BOT_TOKEN: Slack does not accept it",
    "not_authed": "set SLACK_BOT_TOKEN",
    "token_revoked": "reinstall the app and update SLACK_BOT_TOKEN",
    "account_inactive": "reinstall the app and update SLACK_BOT_TOKEN",
    "missing_scope": "add the missing scope in the app's settings (see manifest.yml) and reinstall",
    "user_not_found": "check the user IDs in the policy file",
    "cannot_dm_bot": "check the user IDs in the policy file: one of them is a bot",
    "message_not_found": "nothing: the request message was deleted",
    "cant_update_message": "nothing: the request message can no longer be edited",
    "invalid_blocks": "report this: Leeway built a message Slack would not take",
    "invalid_arguments": "report this: Leeway built a message Slack would not take",
    "msg_too_long": "report this: the message was too long",
    "no_text": "report this: Leeway built an empty message",
}


@dataclass(frozen=True)
class Retry:
    """Try again after `delay`. Only a counted try brings the message nearer to MAX_ATTEMPTS."""

    delay: timedelta
    error: str
    counted: bool = True


@dataclass(frozen=True)
class Hold:
    """Slack said to slow down: try again at `until`, and a paced post holds its whole channel
    until then (the next post there would be refused too)."""

    until: datetime
    error: str


@dataclass(frozen=True)
class Fail:
    """Stop trying. `fix` says what a person has to do; unwarned, there is just nothing to send."""

    code: str
    fix: str
    warn: bool = True


Outcome = Retry | Hold | Fail


def classify(
    *, status: int, code: str, retry_after: str | list[str] | None, attempts: int, channel: str, now: datetime
) -> Outcome:
    """What to do about Slack refusing a call to `channel`: from the HTTP status, Slack's error
    code, its Retry-After header (for a 429) and how many counted tries the message has had."""
    if status == 429 or code == "ratelimited":
        wait = timedelta(seconds=retry_after_seconds(retry_after))
        return Hold(until=now + wait, error=f"ratelimited (retry after {wait.seconds}s)")
    if code in FIXES:
        return Fail(code, FIXES[code].format(channel=channel))
    return retry_or_give_up(code, attempts=attempts)


def retry_or_give_up(error: str, *, attempts: int) -> Retry | Fail:
    """Another counted try after an exponential backoff (at most 5 minutes), until MAX_ATTEMPTS."""
    attempts += 1
    if attempts >= MAX_ATTEMPTS:
        return Fail(error, f"gave up after {attempts} attempts")
    return Retry(timedelta(seconds=min(300, 2**attempts)), error)


def answer_lost(error: str, *, attempts: int, lease: timedelta) -> Retry | Fail:
    """Slack may have the post, and only its answer was lost: like a post whose sender died
    mid-claim, it goes again at most once, and only when the claim would have lapsed."""
    outcome = retry_or_give_up(f"answer lost: {error}", attempts=attempts)
    return Retry(lease, outcome.error) if isinstance(outcome, Retry) else outcome


def retry_after_seconds(value: str | list[str] | None) -> int:
    """Slack's Retry-After header in whole seconds: at least 1, and 1 when missing or unreadable."""
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(1, int(value)) if value is not None else 1
    except (TypeError, ValueError):
        return 1


def deferred(why: str, *, until: datetime | None, now: datetime) -> Retry:
    """Not deliverable yet: look again at `until` (or soon), without counting a try."""
    later = max(until or now, now + DEFER_AT_LEAST)
    return Retry(later - now, why, counted=False)


def dropped(why: str) -> Fail:
    """Never deliverable: nothing went wrong with Slack, there is just nothing left to say."""
    return Fail("dropped", why, warn=False)


def warning(failure: Fail, *, channel: str) -> str:
    """The proposer's notice that a post carrying their decision did not go."""
    return (
        f":warning: Leeway couldn't post to <#{channel}> ({failure.code}). "
        f"To fix it: {failure.fix}. Your decision itself is recorded and safe."
    )


def export_warning(failure: Fail) -> str:
    """A lead's notice that the export they asked for could not be sent."""
    return (
        f":warning: Leeway couldn't send you the export of decisions ({failure.code}). "
        f"To fix it: {failure.fix}. Then `/remedy export` again."
    )
