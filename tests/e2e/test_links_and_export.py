"""Links and export, through the real endpoint: with `case_url` every post that names a case
links it; `/remedy export` sends a lead the period's decisions as a CSV file in their DM."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.core.export import DECISION_COLUMNS, utc_iso
from bot.standin import StandInSlack
from tests.e2e.support import Bot, start_bot
from tests.policies import TEAM_POLICY
from tests.support import wipe

CASE_URL = "https://acme.zendesk.com/agent/tickets/{case}"
LINKED_4711 = "<https://acme.zendesk.com/agent/tickets/%234711|#4711>"
LINKED_4712 = "<https://acme.zendesk.com/agent/tickets/%234712|#4712>"


@pytest.fixture
def linked(slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path) -> Iterator[Bot]:
    slack.reset()
    wipe(engine)
    running = start_bot(slack, database_url, tmp_path, policy=TEAM_POLICY + f'case_url: "{CASE_URL}"\n')
    try:
        yield running
    finally:
        running.server.stop()
        running.leeway.close()
        problems = slack.violations
        slack.reset()
        wipe(engine)
    assert problems == [], f"calls Slack would reject: {problems}"


def blocks_of(args: dict[str, object]) -> str:
    return json.dumps(args.get("blocks") or [])


def test_every_message_that_names_the_case_links_it(linked: Bot) -> None:
    granted = linked.driver.command("U0ANA", "refund 40 #4711 parcel arrived broken")
    assert LINKED_4711 in blocks_of(granted.json)
    assert "<https://" not in granted.json["text"]  # the notification's fallback stays plain

    asked = linked.driver.command("U0ANA", "refund 80 #4712 charged twice")
    assert LINKED_4712 in blocks_of(asked.json)
    request = linked.request_message()
    assert LINKED_4712 in blocks_of(request)
    assert "<https://" not in request["text"]

    linked.driver.react("U0CHO", "white_check_mark", channel="C0REQ", ts=request["ts"])

    update = linked.api.wait_for("chat.update", channel="C0REQ")[0].args
    assert LINKED_4712 in blocks_of(update)
    decisions = linked.api.wait_for("chat.postMessage", channel="C0DEC", count=2)
    assert LINKED_4711 in blocks_of(decisions[0].args)
    assert LINKED_4712 in blocks_of(decisions[1].args)
    kudos = linked.api.wait_for("chat.postMessage", channel="C0KUD", count=2)
    assert LINKED_4712 in blocks_of(kudos[1].args)
    assert "<https://" not in kudos[1].args["text"]
    note = linked.api.wait_for("chat.postMessage", channel="U0ANA")[0].args
    assert LINKED_4712 in blocks_of(note)
    assert "<https://" not in note["text"]


def test_without_case_url_the_case_is_shown_plain(bot: Bot) -> None:
    granted = bot.driver.command("U0ANA", "refund 40 #4711 parcel arrived broken")
    assert "*#4711*" in blocks_of(granted.json)
    assert "<https://" not in blocks_of(granted.json)


def exported_rows(bot: Bot) -> list[dict[str, str]]:
    bot.api.wait_for("files.completeUploadExternal")
    (shared,) = bot.api.files()
    assert shared["channel"] == "D0LEE"  # the lead's DM, opened with conversations.open
    text = shared["content"].decode("utf-8")
    assert text.startswith(",".join(DECISION_COLUMNS) + "\r\n")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_a_lead_gets_the_decisions_of_the_period_as_csv_in_their_dm(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 40 #4711 parcel arrived broken")
    bot.clock.advance(minutes=1)
    bot.driver.command("U0ANA", "late_fee 60 ACC-9 charged during outage")
    request = bot.request_message()
    bot.driver.click_button("U0BEN", channel="C0REQ", ts=request["ts"], action_id="approve")
    bot.wait_for_status("granted")
    bot.clock.advance(minutes=1)
    bot.driver.command("U0BEN", "refund 90 =1+2 a formula for a case reference")
    bot.clock.advance(minutes=1)
    bot.driver.command("U0BEN", "withdraw =1+2")
    bot.clock.advance(minutes=1)
    bot.driver.command("U0CHO", "refund 70 #4799 still waiting for a peer")  # pending: not a decision

    reply = bot.driver.command("U0LEE", "export 30d")
    assert "on their way to you as a CSV file" in reply.json["text"]

    rows = exported_rows(bot)
    ended = [(p, p.decided_at) for p in bot.proposals() if p.decided_at is not None]
    assert len(ended) == 3
    assert [row["id"] for row in rows] == [str(p.id) for p, _ in sorted(ended, key=lambda e: e[1])]
    for row, (proposal, decided_at) in zip(rows, ended, strict=True):
        assert row["decided_at"] == utc_iso(decided_at)
        assert (row["status"], row["remedy_id"], row["amount"], row["tier"]) == (
            proposal.status,
            proposal.remedy_id,
            str(proposal.amount),
            proposal.tier,
        )
        assert (row["proposer"], row["decided_by"]) == (proposal.proposer, proposal.decided_by or "")
    alone, peer, withdrawn = rows
    assert (alone["case"], alone["via"], alone["remedy"], alone["unit"]) == ("#4711", "alone", "Refund", "USD")
    assert (peer["case"], peer["via"], peer["decided_by"]) == ("ACC-9", "button", "U0BEN")
    assert (withdrawn["status"], withdrawn["case"], withdrawn["via"]) == ("withdrawn", "'=1+2", "")

    (completed,) = bot.api.calls_to("files.completeUploadExternal")
    assert "3 of them" in completed.args["initial_comment"]
    assert "apostrophe" in completed.args["initial_comment"]


def test_decisions_before_the_period_are_left_out_and_an_empty_period_says_so(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 40 #4711 parcel arrived broken")
    bot.clock.advance(days=8)
    bot.driver.command("U0LEE", "export 7d")

    said = bot.api.wait_for("chat.postMessage", channel="U0LEE")[0].args
    assert "No proposals were decided in the last 7 days" in said["text"]
    assert bot.api.calls_to("files.getUploadURLExternal") == []

    bot.driver.command("U0LEE", "export")  # 30 days by default
    assert [row["case"] for row in exported_rows(bot)] == ["#4711"]


def test_an_agent_is_told_kindly_that_exports_are_for_leads(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 40 #4711 parcel arrived broken")
    reply = bot.driver.command("U0ANA", "export 30d")
    assert reply.json["text"] == "Only leads can export decisions. Your own are on your Home tab."
    bot.settle()
    assert bot.api.calls_to("files.getUploadURLExternal") == []
    assert [m.kind for m in bot.outbox() if m.kind == "export"] == []


def test_a_period_that_cannot_be_read_gets_the_usual_help(bot: Bot) -> None:
    reply = bot.driver.command("U0LEE", "export 400d")
    assert "Write `/remedy export`, `/remedy export 30d` or `/remedy export 7d` (up to 365d)." in reply.json["text"]


def test_a_lost_answer_to_the_share_is_not_sent_again_inside_the_call(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 40 #4711 parcel arrived broken")
    bot.api.drop_answer_next("files.completeUploadExternal")
    bot.driver.command("U0LEE", "export 30d")

    bot.api.wait_for("files.completeUploadExternal")
    bot.settle()
    assert len(bot.api.calls_to("files.completeUploadExternal")) == 1
    assert len(bot.api.files()) == 1  # Slack has it; only its answer was lost
    (owed,) = [m for m in bot.outbox() if m.kind == "export"]
    assert owed.status == "pending"
    assert "answer lost" in (owed.last_error or "")


def test_an_upload_slack_refuses_for_good_tells_the_lead_what_to_fix(bot: Bot) -> None:
    bot.driver.command("U0ANA", "refund 40 #4711 parcel arrived broken")
    bot.api.fail_next("files.getUploadURLExternal", "missing_scope")
    bot.driver.command("U0LEE", "export 30d")

    said = bot.api.wait_for("chat.postMessage", channel="U0LEE")[0].args["text"]
    assert "couldn't send you the export of decisions (missing_scope)" in said
    assert "add the missing scope" in said
    assert bot.api.files() == []
    (failed,) = [m for m in bot.outbox() if m.kind == "export"]
    assert failed.status == "failed"
