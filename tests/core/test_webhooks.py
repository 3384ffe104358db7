"""Webhooks' pure rules: the event's bytes and signature, the backoff schedule, which answers are
tried again, and the policy's `webhooks:` block, each line of its errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.core.vocabulary import WebhookEvent
from bot.core.webhooks import body_of, event_document, money, signature, timestamp
from bot.outbox.failures import Fail, Retry
from bot.outbox.webhook_retries import after_failure, backoff, is_retried, retry_after
from bot.policy_file import PolicyError, parse_policy, webhook_secrets
from tests.policies import TEAM_POLICY
from tests.receiver import readme_verify

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
BODY = b'{"id":"evt_1"}'
# Worked out once, by hand, with `openssl dgst -sha256 -hmac whsec_test` over "1764000000.<BODY>".
SIGNED = "t=1764000000,v1=76728ba9029660ebc0a14b80fefcffcc0ad9c7139948290090e9bb71e97d5918"
WEBHOOKS = """webhooks:
  - url: https://refunds.internal.example/leeway
    events: [granted, declined, expired, withdrawn, limit_changed, outcome]
    secret_env: LEEWAY_WEBHOOK_SECRET_REFUNDS
"""


def test_the_signature_is_hmac_sha256_of_the_time_and_the_body() -> None:
    assert signature("whsec_test", BODY, at=1764000000) == SIGNED


def test_the_readme_receiver_accepts_a_real_signature_and_nothing_else() -> None:
    verify = readme_verify()
    assert verify("whsec_test", BODY, SIGNED, now=1764000000)
    assert verify("whsec_test", BODY, SIGNED, now=1764000000 + 299)
    assert not verify("whsec_test", BODY, SIGNED, now=1764000000 + 301)  # a replay, too late
    assert not verify("whsec_test", BODY + b" ", SIGNED, now=1764000000)  # not these bytes
    assert not verify("another secret", BODY, SIGNED, now=1764000000)
    assert not verify("whsec_test", BODY, "v1=abc", now=1764000000)
    assert not verify("whsec_test", BODY, "", now=1764000000)


def test_the_document_is_compact_json_in_its_order_with_text_as_written() -> None:
    document = event_document(
        event_id="evt_1", event=WebhookEvent.GRANTED, created=T0, data={"proposal": {"case": "#4711 Zoë"}}
    )
    assert list(document) == ["id", "type", "created", "data"]
    expected = (
        '{"id":"evt_1","type":"granted","created":"2026-11-24T09:00:00Z","data":{"proposal":{"case":"#4711 Zoë"}}}'
    )
    assert body_of(document) == expected.encode()


@pytest.mark.parametrize(
    ("amount", "written"), [(Decimal(15), "15.00"), (Decimal("15.5"), "15.50"), (Decimal("0.01"), "0.01"), (None, None)]
)
def test_amounts_are_strings_with_two_decimals(amount: Decimal | None, written: str | None) -> None:
    assert money(amount) == written


def test_times_are_utc_to_the_second() -> None:
    assert timestamp(T0.replace(microsecond=500)) == "2026-11-24T09:00:00Z"


@pytest.mark.parametrize(
    ("attempt", "wait"),
    [(1, 10), (2, 20), (3, 40), (4, 80), (5, 160), (6, 320), (7, 640), (8, 1280), (9, 2560), (10, 3600), (40, 3600)],
)
def test_the_backoff_doubles_from_ten_seconds_up_to_an_hour(attempt: int, wait: int) -> None:
    assert backoff(attempt) == timedelta(seconds=wait)


def test_24_hours_of_backoff_is_about_thirty_tries() -> None:
    tries, waited = 0, timedelta(0)
    while waited <= timedelta(hours=24):
        tries += 1
        waited += backoff(tries)
    assert 25 <= tries <= 35


@pytest.mark.parametrize(
    ("status", "retried"),
    [
        *[(None, True), (500, True), (502, True), (503, True), (408, True), (429, True)],
        *[(400, False), (401, False), (403, False), (404, False), (409, False), (410, False), (422, False)],
        *[(301, False), (302, False)],
    ],
)
def test_which_answers_are_tried_again(status: int | None, retried: bool) -> None:
    assert is_retried(status) is retried


def failure(
    status: int | None, *, header: str | None = None, attempts: int = 0, created: datetime = T0
) -> Retry | Fail:
    return after_failure(
        status=status,
        error=f"HTTP {status}",
        retry_after_header=header,
        attempts=attempts,
        created=created,
        now=T0,
        secret_env="LEEWAY_WEBHOOK_SECRET_REFUNDS",
        url="https://refunds.internal.example/leeway",
    )


@pytest.mark.parametrize(
    ("status", "header", "attempts", "wait"),
    [
        (None, None, 0, 10),  # the network: the first retry after 10 s
        (500, None, 2, 40),
        (503, "30", 0, 30),  # Retry-After, honoured on any retried answer
        (408, None, 0, 10),
        (429, "120", 5, 120),  # a 429's Retry-After, not the backoff
        (429, "Tue, 24 Nov 2026 09:05:00 GMT", 0, 300),  # an HTTP date
        (429, None, 0, 10),
        (429, "soon", 1, 20),  # unreadable: the backoff
    ],
)
def test_a_retried_answer_waits_for_retry_after_or_the_backoff(
    status: int | None, header: str | None, attempts: int, wait: int
) -> None:
    assert failure(status, header=header, attempts=attempts) == Retry(timedelta(seconds=wait), f"HTTP {status}")


@pytest.mark.parametrize(
    ("status", "fix"),
    [
        (401, "the endpoint answered 401: check LEEWAY_WEBHOOK_SECRET_REFUNDS on the receiver"),
        (403, "the endpoint answered 403: check LEEWAY_WEBHOOK_SECRET_REFUNDS on the receiver"),
        (404, "the endpoint answered 404: check the url https://refunds.internal.example/leeway in the policy"),
        (410, "the endpoint answered 410: check the url"),
        (400, "the endpoint answered 400: the receiver refused the event; its own log says why"),
        (422, "the endpoint answered 422: the receiver refused the event"),
        (413, "the endpoint answered 413: the event was larger than the receiver takes"),
        (301, "the endpoint answered 301 (a redirect, which Leeway does not follow)"),
    ],
)
def test_other_answers_stop_at_once_with_the_fix(status: int, fix: str) -> None:
    outcome = failure(status)
    assert isinstance(outcome, Fail)
    assert outcome.code == f"http {status}"
    assert outcome.fix.startswith(fix)


def test_tries_stop_24_hours_after_the_event() -> None:
    # The hour's wait would pass the 24 hours: the last try is made at their end instead.
    last = failure(500, attempts=30, created=T0 - timedelta(hours=23, minutes=30))
    assert last == Retry(timedelta(minutes=30), "HTTP 500")
    late = failure(500, attempts=31, created=T0 - timedelta(hours=24))
    assert isinstance(late, Fail)  # that was the last try
    assert late.code == "gave up"
    assert "has not taken the event for 24 hours (last: HTTP 500)" in late.fix
    # A Retry-After past the window is not waited for.
    assert isinstance(failure(429, header=str(25 * 3600)), Fail)
    assert failure(429, header="60", created=T0 - timedelta(hours=23)) == Retry(timedelta(seconds=60), "HTTP 429")


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after("7", now=T0) == timedelta(seconds=7)
    assert retry_after("Tue, 24 Nov 2026 08:00:00 GMT", now=T0) == timedelta(0)  # already passed
    assert retry_after(None, now=T0) is None
    assert retry_after("", now=T0) is None
    assert retry_after("-3", now=T0) is None
    # However far off, no more than just past the 24 hours (a figure this large would overflow).
    assert retry_after("9999999999999", now=T0) == timedelta(hours=24, seconds=1)
    assert retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now=T0) == timedelta(hours=24, seconds=1)


def test_a_huge_retry_after_on_an_old_event_fails_it_rather_than_breaking() -> None:
    assert isinstance(failure(429, header="9999999999999", created=T0 - timedelta(hours=30)), Fail)
    assert isinstance(failure(503, header="9999999999999"), Fail)


# --- the policy's block ------------------------------------------------------------------------


def test_the_webhooks_block_reads_as_written() -> None:
    policy = parse_policy(TEAM_POLICY + WEBHOOKS)
    (webhook,) = policy.webhooks
    assert webhook.url == "https://refunds.internal.example/leeway"
    assert webhook.events == tuple(WebhookEvent)
    assert webhook.host == "refunds.internal.example"
    assert len(webhook.key) <= 32  # it names the endpoint in an outbox row's channel
    assert policy.webhook(webhook.key) is webhook
    assert parse_policy(TEAM_POLICY).webhooks == ()  # optional
    # What logs, metrics and /healthz show: the host, and the URL without its query.
    queried = parse_policy(TEAM_POLICY + WEBHOOKS.replace("/leeway", ":8443/leeway?token=abc")).webhooks[0]
    assert (queried.host, queried.shown) == (
        "refunds.internal.example:8443",
        "https://refunds.internal.example:8443/leeway",
    )


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (
            ("https://refunds", "ftp://refunds"),
            "line 29: webhooks[0].url: 'ftp://refunds.internal.example/leeway' is not an http(s) URL",
        ),
        (("https://refunds.internal.example/leeway", "refunds.internal.example"), "is not an http(s) URL"),
        (
            ("[granted, declined,", "[granted, grnted,"),
            "line 30: webhooks[0].events: unknown event 'grnted': use granted, declined, expired, withdrawn, "
            "limit_changed, outcome",
        ),
        (
            ("events: [granted, declined, expired, withdrawn, limit_changed, outcome]", "events: []"),
            "webhooks[0].events",
        ),
        (
            ("LEEWAY_WEBHOOK_SECRET_REFUNDS", "the secret itself"),
            "line 31: webhooks[0].secret_env: 'the secret itself' is not an environment variable's name",
        ),
        (("secret_env:", "secret:"), "unknown key 'secret'"),
        (("https://refunds", "https://leeway:s3cr3t@refunds"), "webhooks[0].url: holds a user or password"),
    ],
)
def test_each_mistake_in_the_block_is_one_line(change: tuple[str, str], says: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(TEAM_POLICY + WEBHOOKS.replace(*change), source="policy.yml")
    assert says in str(raised.value)
    assert len(str(raised.value).splitlines()) <= 2


def test_an_endpoint_listed_twice_is_refused() -> None:
    twice = WEBHOOKS + WEBHOOKS.removeprefix("webhooks:\n")
    with pytest.raises(PolicyError, match="is listed twice: give it one entry with all its events"):
        parse_policy(TEAM_POLICY + twice)


def test_a_missing_or_empty_secret_is_one_clear_line() -> None:
    policy = parse_policy(TEAM_POLICY + WEBHOOKS)
    expected = (
        "policy.yml: webhooks[0].secret_env: LEEWAY_WEBHOOK_SECRET_REFUNDS is not set (or empty): set it to the "
        "signing secret the receiver at refunds.internal.example checks Leeway-Signature with"
    )
    for environ in ({}, {"LEEWAY_WEBHOOK_SECRET_REFUNDS": ""}, {"LEEWAY_WEBHOOK_SECRET_REFUNDS": "  "}):
        with pytest.raises(PolicyError) as raised:
            webhook_secrets(policy, environ, source="policy.yml")
        assert str(raised.value) == expected
    secrets = webhook_secrets(policy, {"LEEWAY_WEBHOOK_SECRET_REFUNDS": "whsec_1"})
    assert secrets == {policy.webhooks[0].key: "whsec_1"}


def test_check_policy_fails_on_a_missing_secret_and_shows_the_endpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(TEAM_POLICY + WEBHOOKS)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    monkeypatch.delenv("LEEWAY_WEBHOOK_SECRET_REFUNDS", raising=False)
    assert main(["check-policy", str(path)]) == 2
    assert "webhooks[0].secret_env: LEEWAY_WEBHOOK_SECRET_REFUNDS is not set" in capsys.readouterr().err
    monkeypatch.setenv("LEEWAY_WEBHOOK_SECRET_REFUNDS", "whsec_1")
    assert main(["check-policy", str(path)]) == 0
    out = capsys.readouterr().out
    assert "webhook https://refunds.internal.example/leeway: granted, declined, expired" in out
    assert "LEEWAY_WEBHOOK_SECRET_REFUNDS" in out
    assert "whsec_1" not in out
