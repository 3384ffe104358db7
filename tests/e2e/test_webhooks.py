"""Webhooks end to end: decisions made through the real endpoint with the stand-in Slack reach a
real local receiver, signed as README.md says (checked with README.md's own receiver); retried
through failures on the moved clock; held on a 4xx; and never holding up Slack or each other."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from bot import jobs
from bot.core.vocabulary import OutboxKind, OutboxStatus
from bot.standin import StandInSlack
from storage.models import OutboxMessage
from tests.e2e.support import Bot, instances, logged, start_bot
from tests.e2e.test_forms_and_declines import INPUT, opened_form
from tests.policies import TEAM_POLICY
from tests.receiver import Answer, Received, Receiver, readme_verify
from tests.support import FakeClock, wipe

SECRET = "whsec_refunds_test"
SECRET_ENV = "LEEWAY_WEBHOOK_SECRET_REFUNDS"
ALL_EVENTS = "[granted, declined, expired, withdrawn, limit_changed, outcome]"
verify = readme_verify()


def webhooks_block(*endpoints: tuple[str, str, str]) -> str:
    lines = ["webhooks:"]
    for url, events, secret_env in endpoints:
        lines += [f"  - url: {url}", f"    events: {events}", f"    secret_env: {secret_env}"]
    return "\n".join(lines) + "\n"


@dataclass
class Hooked:
    bot: Bot
    receiver: Receiver

    def webhook_rows(self) -> list[OutboxMessage]:
        with self.bot.session() as session:
            return list(
                session.scalars(
                    select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.WEBHOOK).order_by(OutboxMessage.id)
                )
            )

    def wait_for_row(self, *, attempts: int, status: OutboxStatus = OutboxStatus.PENDING) -> OutboxMessage:
        """The (only) event's row once its try is recorded (the receiver sees a try before Leeway does)."""
        deadline = time.monotonic() + 10
        while True:
            (row,) = self.webhook_rows()
            if (row.attempts, row.status) == (attempts, status) or time.monotonic() > deadline:
                assert (row.attempts, row.status) == (attempts, status), (row.attempts, row.status, row.last_error)
                return row
            time.sleep(0.02)

    def events(self, count: int) -> list[dict[str, Any]]:
        return [signed(request) for request in self.receiver.wait_for(count)]


def signed(request: Received, secret: str = SECRET, now: float | None = None) -> dict[str, Any]:
    """The event a request carries, once README.md's receiver has verified its signature."""
    assert request.header("Content-Type") == "application/json"
    t = int(request.header("Leeway-Signature").split(",")[0].removeprefix("t="))
    assert verify(secret, request.body, request.header("Leeway-Signature"), now=t if now is None else now)
    event = request.event
    assert request.header("Leeway-Event-Id") == event["id"]
    assert event["id"].startswith("evt_")
    return event


def start_hooked(
    slack: StandInSlack, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: str
) -> Bot:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    bot = start_bot(slack, database_url, tmp_path, policy=TEAM_POLICY + block)
    bot.leeway.webhooks.idle_wait = 0.05
    bot.leeway.webhooks.start()
    return bot


@pytest.fixture
def hooked(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Hooked]:
    """Leeway with one endpoint subscribed to every event, and its receiver."""
    slack.reset()
    wipe(engine)
    with Receiver() as receiver:
        bot = start_hooked(
            slack, database_url, tmp_path, monkeypatch, webhooks_block((receiver.url, ALL_EVENTS, SECRET_ENV))
        )
        try:
            yield Hooked(bot, receiver)
        finally:
            stop(bot)
            problems = slack.violations
            slack.reset()
            wipe(engine)
    assert problems == [], f"calls Slack would reject: {problems}"


def stop(bot: Bot) -> None:
    bot.server.stop()
    bot.leeway.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def agree_by_reaction(bot: Bot, user: str = "U0CHO") -> None:
    request = bot.request_message()
    bot.driver.react(user, "white_check_mark", channel="C0REQ", ts=request["ts"])


# --- every decision reaches the endpoint, signed -----------------------------------------------


def test_a_grant_within_the_agents_own_authority_is_delivered_signed(hooked: Hooked) -> None:
    bot = hooked.bot
    assert "Granted" in bot.driver.command("U0ANA", "refund 20 #4711 parcel arrived broken fair:15").json["text"]
    (request,) = hooked.receiver.wait_for(1)
    event = signed(request, now=bot.clock().timestamp())  # signed at the injected clock's time
    proposal = bot.only_proposal()
    assert event["type"] == "granted"
    assert event["created"] == "2026-11-24T09:00:00Z"
    assert event["data"] == {
        "proposal": {
            "id": proposal.id,  # owed before the batch drew it; filled in from the row
            "status": "granted",
            "tier": "alone",
            "remedy": "refund",
            "remedy_label": "Refund",
            "amount": "20.00",
            "unit": "USD",
            "case": "#4711",
            "what_happened": "parcel arrived broken",
            "fair": "15.00",
            "proposer": "U0ANA",
            "proposed_at": "2026-11-24T09:00:00Z",
            "decided_at": "2026-11-24T09:00:00Z",
            "decided_by": "U0ANA",
            "via": "alone",
            "requested_by": None,  # made in Slack, not by one of the company's systems
            "integration": None,
            "customer": None,
        }
    }
    assert request.path == "/leeway"
    row = hooked.wait_for_row(attempts=1, status=OutboxStatus.SENT)
    assert row.proposal_id == proposal.id
    # Slack's posts went out as ever, by their own sender.
    bot.api.wait_for("chat.postMessage", channel="C0KUD")


def test_a_grant_a_peer_agreed_to_is_delivered(hooked: Hooked) -> None:
    bot = hooked.bot
    assert "I've asked" in bot.driver.command("U0ANA", "refund 80 #4712 lost parcel").json["text"]
    agree_by_reaction(bot)
    bot.wait_for_status("granted")
    (event,) = hooked.events(1)  # the request itself owes no event
    assert event["type"] == "granted"
    proposal = event["data"]["proposal"]
    assert (proposal["id"], proposal["tier"], proposal["via"]) == (bot.only_proposal().id, "peer", "reaction")
    assert (proposal["amount"], proposal["decided_by"], proposal["proposer"]) == ("80.00", "U0CHO", "U0ANA")


def test_declines_withdrawals_and_expiries_are_delivered(hooked: Hooked) -> None:
    bot = hooked.bot
    bot.driver.command("U0ANA", "refund 80 #4801 lost parcel")
    request = bot.request_message()
    bot.driver.click_button("U0BEN", channel="C0REQ", ts=request["ts"], action_id="decline")
    form = opened_form(bot)
    assert bot.driver.submit_view("U0BEN", form, {"reason": {INPUT: "a voucher instead?"}}).status == 200
    (declined,) = hooked.events(1)
    assert declined["type"] == "declined"
    assert declined["data"]["proposal"]["status"] == "declined"
    assert declined["data"]["proposal"]["decided_by"] == "U0BEN"
    assert "a voucher" not in hooked.receiver.received[0].body.decode()  # the reason stays the proposer's

    bot.driver.command("U0ANA", "refund 90 #4802 lost parcel")
    assert "Withdrawn" in bot.driver.command("U0ANA", "withdraw #4802").json["text"]
    withdrawn = hooked.events(2)[1]
    assert (withdrawn["type"], withdrawn["data"]["proposal"]["case"]) == ("withdrawn", "#4802")
    assert withdrawn["data"]["proposal"]["decided_by"] == "U0ANA"

    bot.driver.command("U0ANA", "refund 70 #4803 lost parcel")
    bot.clock.advance(hours=4, minutes=1)
    jobs.requests_due(bot.leeway.ctx)
    expired = hooked.events(3)[2]
    assert (expired["type"], expired["data"]["proposal"]["status"]) == ("expired", "expired")
    assert expired["data"]["proposal"]["decided_by"] is None
    assert expired["created"] == "2026-11-24T13:01:00Z"
    assert len({event["id"] for event in hooked.events(3)}) == 3


def test_a_limit_change_and_an_outcome_are_delivered(hooked: Hooked) -> None:
    bot = hooked.bot
    assert "Granted" in bot.driver.command("U0ANA", "late_fee 15 #4901 charged twice").json["text"]
    assert hooked.events(1)[0]["type"] == "granted"
    bot.driver.command("U0ANA", "outcome #4901 delighted")
    outcome = hooked.events(2)[1]
    assert outcome["type"] == "outcome"
    assert (outcome["data"]["outcome"], outcome["data"]["told_by"]) == ("delighted", "U0ANA")
    assert outcome["data"]["proposal"]["case"] == "#4901"

    bot.driver.command("U0LEE", "limits set late_fee alone 40")
    changed = hooked.events(3)[2]
    assert changed["type"] == "limit_changed"
    change = changed["data"]["limit_change"]
    assert {k: change[k] for k in ("remedy", "kind", "tier", "from", "to", "by", "person")} == {
        "remedy": "late_fee",
        "kind": "set",
        "tier": "alone",
        "from": "20.00",
        "to": "40.00",
        "by": "U0LEE",
        "person": None,
    }
    bot.driver.command("U0LEE", "limits reset late_fee")
    reset = hooked.events(4)[3]["data"]["limit_change"]
    assert (reset["kind"], reset["tier"], reset["to"]) == ("reset", None, None)


def test_only_endpoints_subscribed_to_an_event_are_told_of_it(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.reset()
    wipe(engine)
    monkeypatch.setenv("LEEWAY_WEBHOOK_SECRET_HELPDESK", "whsec_helpdesk")
    with Receiver() as refunds, Receiver() as helpdesk:
        block = webhooks_block(
            (refunds.url, "[granted]", SECRET_ENV),
            (helpdesk.url, "[declined, withdrawn]", "LEEWAY_WEBHOOK_SECRET_HELPDESK"),
        )
        bot = start_hooked(slack, database_url, tmp_path, monkeypatch, block)
        try:
            bot.driver.command("U0ANA", "refund 90 #5001 lost parcel")
            bot.driver.command("U0ANA", "withdraw #5001")
            bot.driver.command("U0ANA", "refund 20 #5002 lost parcel")
            (granted,) = (signed(r) for r in refunds.wait_for(1))
            (withdrawn,) = (signed(r, "whsec_helpdesk") for r in helpdesk.wait_for(1))
            assert (granted["type"], withdrawn["type"]) == ("granted", "withdrawn")
            with bot.session() as session:
                kinds = session.scalars(select(OutboxMessage.channel).where(OutboxMessage.kind == OutboxKind.WEBHOOK))
                assert len(list(kinds)) == 2  # no row for an endpoint not subscribed
        finally:
            stop(bot)
            wipe(engine)
            slack.reset()


# --- retries, on the moved clock ---------------------------------------------------------------


def test_an_event_is_retried_through_500s_and_a_429_until_it_lands(hooked: Hooked) -> None:
    bot, receiver, lanes = hooked.bot, hooked.receiver, hooked.bot.leeway.webhooks
    receiver.answer_next(Answer(500), Answer(503), Answer(429, {"Retry-After": "120"}))
    bot.driver.command("U0ANA", "refund 20 #4711 parcel broken")
    receiver.wait_for(1)
    first = hooked.wait_for_row(attempts=1)
    assert first.next_attempt_at == bot.clock().replace(second=10)  # 10 s later
    assert first.last_error == "HTTP 500"
    bot.clock.advance(seconds=9)
    assert lanes.deliver_due() == 0  # not yet
    bot.clock.advance(seconds=1)
    lanes.wake()
    receiver.wait_for(2)
    second = hooked.wait_for_row(attempts=2)
    assert (second.next_attempt_at - bot.clock()).total_seconds() == 20  # doubled
    bot.clock.advance(seconds=20)
    lanes.wake()
    receiver.wait_for(3)
    third = hooked.wait_for_row(attempts=3)
    assert (third.next_attempt_at - bot.clock()).total_seconds() == 120  # the 429's Retry-After
    bot.clock.advance(seconds=119)
    assert lanes.deliver_due() == 0
    bot.clock.advance(seconds=1)
    lanes.wake()
    tries = receiver.wait_for(4)
    hooked.wait_for_row(attempts=4, status=OutboxStatus.SENT)
    # Every try carried the same bytes and event id, each signed afresh at its own time.
    assert len({r.body for r in tries}) == 1
    assert len({r.header("Leeway-Event-Id") for r in tries}) == 1
    assert len({r.header("Leeway-Signature") for r in tries}) == 4
    for request in tries:
        signed(request)
    metrics = bot.leeway.ctx.metrics.render().decode()
    host = f"127.0.0.1:{receiver.port}"
    for status in ("500", "503", "429", "200"):
        assert f'leeway_webhook_deliveries_total{{endpoint="{host}",status="{status}"}} 1.0' in metrics


@pytest.mark.parametrize(
    ("status", "fix"),
    [
        (401, "the endpoint answered 401: check LEEWAY_WEBHOOK_SECRET_REFUNDS on the receiver"),
        (400, "the endpoint answered 400: the receiver refused the event; its own log says why"),
    ],
)
def test_an_endpoint_refusing_the_event_holds_it_at_once_with_the_fix(
    hooked: Hooked, caplog: pytest.LogCaptureFixture, status: int, fix: str
) -> None:
    bot, receiver = hooked.bot, hooked.receiver
    receiver.answer_next(Answer(status))
    with caplog.at_level(logging.ERROR, logger="leeway.webhooks"):
        bot.driver.command("U0ANA", "refund 20 #4711 parcel broken")
        receiver.wait_for(1)
        row = hooked.wait_for_row(attempts=1, status=OutboxStatus.FAILED)
    assert (row.last_error or "").startswith(f"http {status}: {fix}")
    assert logged(caplog, lambda line: fix in line and "not tried again" in line)
    bot.clock.advance(hours=2)
    bot.leeway.webhooks.wake()
    assert bot.leeway.webhooks.deliver_due() == 0
    assert len(receiver.received) == 1  # no more tries
    health = bot.leeway.health()[1]
    assert health["webhooks"] == {f"127.0.0.1:{receiver.port}": {"pending": 0, "oldest_seconds": 0.0}}


def test_the_backlog_shows_in_healthz_by_endpoint(hooked: Hooked) -> None:
    bot, receiver = hooked.bot, hooked.receiver
    receiver.answer_next(Answer(502))
    bot.driver.command("U0ANA", "refund 20 #4711 parcel broken")
    hooked.wait_for_row(attempts=1)
    bot.clock.advance(seconds=5)
    deadline = time.monotonic() + 10
    while (health := bot.leeway.health())[1]["outbox"]["pending"] and time.monotonic() < deadline:
        time.sleep(0.02)  # the grant's Slack posts, on their way
    status, report = health
    assert status == 200  # an endpoint that is down is its owners' to fix; Leeway is well
    assert report["webhooks"] == {f"127.0.0.1:{receiver.port}": {"pending": 1, "oldest_seconds": 5.0}}
    assert report["outbox"]["pending"] == 0  # Slack's own backlog doesn't count webhooks
    metrics = bot.leeway.ctx.metrics.render().decode()
    assert f'leeway_webhook_backlog{{endpoint="127.0.0.1:{receiver.port}"}} 1.0' in metrics


# --- one endpoint's trouble is its own -------------------------------------------------------


def test_a_slow_or_down_endpoint_holds_up_neither_slack_nor_another_endpoint(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.reset()
    wipe(engine)
    release = threading.Event()
    with Receiver() as slow, Receiver() as fast:
        down = f"http://127.0.0.1:{free_port()}/leeway"  # nothing listens there
        block = webhooks_block(
            (slow.url, "[granted]", SECRET_ENV), (down, "[granted]", SECRET_ENV), (fast.url, "[granted]", SECRET_ENV)
        )
        slow.answer_next(*(Answer(hold=release) for _ in range(3)))
        bot = start_hooked(slack, database_url, tmp_path, monkeypatch, block)
        try:
            for n in range(3):
                assert "Granted" in bot.driver.command("U0ANA", f"refund 20 #60{n} parcel broken").json["text"]
            slow.wait_for(1)  # the slow endpoint holds its first event, unanswered
            # Meanwhile every Slack post and every event to the other endpoint goes.
            slack.wait_for("chat.postMessage", channel="C0DEC", count=3)
            slack.wait_for("chat.postMessage", channel="C0KUD", count=3)
            events = [signed(r) for r in fast.wait_for(3)]
            assert [e["data"]["proposal"]["case"] for e in events] == ["#600", "#601", "#602"]
            assert len(slow.received) == 1  # still held
            release.set()
            slow.wait_for(3)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with bot.session() as session:
                    rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.WEBHOOK)))
                sent = {row.channel for row in rows if row.status == OutboxStatus.SENT}
                if len([r for r in rows if r.status == OutboxStatus.SENT]) == 6:
                    break
                time.sleep(0.02)
            by_endpoint = {w.url: w.key for w in bot.leeway.policy.webhooks}
            assert sent == {by_endpoint[slow.url], by_endpoint[fast.url]}
            refused = [row for row in rows if row.channel == by_endpoint[down]]
            assert {(row.status, row.last_error) for row in refused} == {
                (OutboxStatus.PENDING, "ConnectError: [Errno 111] Connection refused")
            }
        finally:
            release.set()
            stop(bot)
            wipe(engine)
            slack.reset()


def test_two_instances_deliver_each_event_once(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.reset()
    wipe(engine)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    clock = FakeClock()
    with Receiver() as receiver:
        policy = TEAM_POLICY + webhooks_block((receiver.url, ALL_EVENTS, SECRET_ENV))
        with instances(slack, database_url, tmp_path, policy=policy, clock=clock) as bots:
            for bot in bots:
                bot.leeway.webhooks.idle_wait = 0.01
                bot.leeway.webhooks.start()
            for n in range(12):  # grants land on either instance; both instances' lanes claim
                reply = bots[n % 2].driver.command("U0ANA", f"refund 20 #7{n:02} parcel broken")
                assert "Granted" in reply.json["text"]
            events = [signed(r) for r in receiver.wait_for(12)]
            time.sleep(0.5)  # room for a wrong second delivery to arrive
            assert len(receiver.received) == 12
            assert sorted(e["data"]["proposal"]["case"] for e in events) == [f"#7{n:02}" for n in range(12)]
    wipe(engine)
    slack.reset()


def test_an_endpoint_failing_for_24_hours_has_the_event_marked_failed(
    hooked: Hooked, caplog: pytest.LogCaptureFixture
) -> None:
    bot, receiver, lanes = hooked.bot, hooked.receiver, hooked.bot.leeway.webhooks
    receiver.answer_next(*(Answer(500) for _ in range(60)))
    with caplog.at_level(logging.ERROR, logger="leeway.webhooks"):
        bot.driver.command("U0ANA", "refund 20 #4711 parcel broken")
        granted_at = bot.clock()
        tries = 1
        row = hooked.wait_for_row(attempts=1)
        while row.status == OutboxStatus.PENDING:
            bot.clock.advance(seconds=(row.next_attempt_at - bot.clock()).total_seconds())  # to the next try
            lanes.wake()
            tries += 1
            receiver.wait_for(tries)
            last = bot.clock() - granted_at >= timedelta(hours=24)
            row = hooked.wait_for_row(attempts=tries, status=OutboxStatus.FAILED if last else OutboxStatus.PENDING)
    assert bot.clock() - granted_at == timedelta(hours=24)  # the last try, at the 24 hours' end
    assert 25 <= tries <= 35
    assert (row.last_error or "").startswith("gave up: the endpoint has not taken the event for 24 hours")
    assert logged(caplog, lambda line: "not tried again" in line)


def test_an_endpoint_too_slow_to_answer_is_tried_again_later(hooked: Hooked) -> None:
    bot, receiver, lanes = hooked.bot, hooked.receiver, hooked.bot.leeway.webhooks
    release = threading.Event()
    lanes.lanes[bot.leeway.policy.webhooks[0].key].client.timeout = httpx.Timeout(0.2)
    receiver.answer_next(Answer(hold=release))
    try:
        bot.driver.command("U0ANA", "refund 20 #4711 parcel broken")
        row = hooked.wait_for_row(attempts=1)
    finally:
        release.set()
    assert (row.last_error or "").startswith("timed out")
    assert (row.next_attempt_at - bot.clock()).total_seconds() == 10
    bot.clock.advance(seconds=10)
    lanes.wake()
    hooked.wait_for_row(attempts=2, status=OutboxStatus.SENT)
    assert 'status="timeout"} 1.0' in bot.leeway.ctx.metrics.render().decode()
