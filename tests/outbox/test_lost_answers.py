"""A post whose answer was lost: which failures may have landed, what becomes of them, and which
calls slack_sdk may still repeat inside the call."""

from __future__ import annotations

import socket
from datetime import timedelta
from http.client import IncompleteRead, RemoteDisconnected
from urllib.error import URLError

import pytest

from bot.outbox.failures import MAX_ATTEMPTS, Fail, Retry, answer_lost
from bot.outbox.rendering import RESPOND, UPLOAD
from bot.outbox.transport import may_have_landed
from bot.runtime import is_read

LEASE = timedelta(seconds=120)


@pytest.mark.parametrize(
    ("method", "error", "landed"),
    [
        # The request went out; the answer never came back.
        ("chat.postMessage", RemoteDisconnected("Remote end closed connection without response"), True),
        ("chat.postMessage", ConnectionResetError(104, "Connection reset by peer"), True),
        ("chat.postMessage", TimeoutError("The read operation timed out"), True),
        ("chat.postMessage", IncompleteRead(b"{"), True),
        ("chat.postEphemeral", RemoteDisconnected("Remote end closed connection without response"), True),
        (RESPOND, RemoteDisconnected("Remote end closed connection without response"), True),
        # An upload's last step shares the file: its lost answer may mean the file is in the DM.
        (UPLOAD, RemoteDisconnected("Remote end closed connection without response"), True),
        (UPLOAD, URLError(ConnectionRefusedError(111, "Connection refused")), False),
        # urllib wraps what fails before the request is sent: Slack never saw it.
        ("chat.postMessage", URLError(ConnectionRefusedError(111, "Connection refused")), False),
        ("chat.postMessage", URLError(socket.gaierror(-2, "Name or service not known")), False),
        # Not a network failure at all.
        ("chat.postMessage", ValueError("bad JSON in the answer"), False),
        # Calls that set a state: sent twice, they show it once.
        ("chat.update", RemoteDisconnected("Remote end closed connection without response"), False),
        ("views.publish", RemoteDisconnected("Remote end closed connection without response"), False),
    ],
)
def test_may_have_landed(method: str, error: Exception, landed: bool) -> None:
    assert may_have_landed(method, error) is landed


@pytest.mark.parametrize(
    ("attempts", "outcome"),
    [
        (0, Retry(LEASE, "answer lost: RemoteDisconnected")),
        (5, Retry(LEASE, "answer lost: RemoteDisconnected")),  # never sooner, however few tries came before
        (MAX_ATTEMPTS - 1, Fail("answer lost: RemoteDisconnected", f"gave up after {MAX_ATTEMPTS} attempts")),
    ],
)
def test_a_lost_answer_waits_for_the_claim_to_lapse(attempts: int, outcome: Retry | Fail) -> None:
    assert answer_lost("RemoteDisconnected", attempts=attempts, lease=LEASE) == outcome


@pytest.mark.parametrize(
    ("url", "read"),
    [
        ("https://slack.com/api/auth.test", True),
        ("http://127.0.0.1:8080/api/usergroups.users.list", True),
        ("https://slack.com/api/auth.test?x=1", True),
        ("https://slack.com/api/chat.postMessage", False),
        ("https://slack.com/api/chat.update", False),
        ("https://slack.com/api/views.open", False),
        ("https://slack.com/api/views.publish", False),
        ("https://slack.com/api/auth.testing", False),
        ("https://slack.com/api/files.completeUploadExternal", False),
    ],
)
def test_only_reads_are_repeated_inside_the_call(url: str, read: bool) -> None:
    assert is_read(url) is read
