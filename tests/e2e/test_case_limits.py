"""A limit can't be split across proposals: what a case already has of a remedy, granted or
waiting, within the policy's `case_window`, counts toward the tier of the next proposal."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

from bot.core.lifecycle import Status
from bot.core.policy import Tier
from bot.standin import StandInSlack
from tests.e2e.support import Bot, start_bot
from tests.e2e.test_forms_and_declines import INPUT, decline, opened_form
from tests.e2e.test_no_one_waits import run_schedule
from tests.policies import TEAM_POLICY

GRANTED = "Granted — go ahead"
AGENTS = ("U0ANA", "U0BEN", "U0CHO", "U0DAN", "U0ANA")


def propose(bot: Bot, text: str, user: str = "U0ANA") -> str:
    reply = bot.driver.command(user, text)
    assert reply.status == 200
    return str(reply.json["text"])


def all_at_once(jobs: list[tuple[Bot, str, str]]) -> list[str]:
    """Send each (instance, user, text) at the same moment; the replies, in the order they came."""
    start = threading.Barrier(len(jobs))
    replies: list[str] = []

    def send(instance: Bot, user: str, text: str) -> None:
        start.wait()
        replies.append(propose(instance, text, user))

    threads = [threading.Thread(target=send, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return replies


def granted_alone_total(bot: Bot, case_ref: str) -> Decimal:
    return sum(
        (p.amount for p in bot.proposals() if p.case_ref == case_ref and p.tier == Tier.ALONE),
        Decimal(0),
    )


def test_five_late_fees_on_one_case_are_tiered_by_their_sum(bot: Bot) -> None:
    # The team policy's late fee: alone up to $20, with a peer up to $100, with a lead up to $300.
    replies = [propose(bot, f"late_fee 20 #99001 charged twice, {i}", user) for i, user in enumerate(AGENTS)]

    assert GRANTED in replies[0]
    assert "already" not in replies[0]
    assert "with the $20 already granted on #99001 this needs a peer's agreement" in replies[1]
    assert "with the $40 already granted or waiting on #99001 this needs a peer's agreement" in replies[2]
    assert "with the $60 already granted or waiting on #99001 this needs a peer's agreement" in replies[3]
    assert "with the $80 already granted or waiting on #99001 this needs a peer's agreement" in replies[4]
    assert all(GRANTED not in reply and "I've asked <@" in reply for reply in replies[1:])
    proposals = bot.proposals()
    assert [(p.status, p.tier) for p in proposals] == [(Status.GRANTED, Tier.ALONE)] + [(Status.PENDING, Tier.PEER)] * 4
    assert granted_alone_total(bot, "#99001") == Decimal(20)

    # A sixth comes to $120: past what two agents may agree to.
    sixth = propose(bot, "late_fee 20 #99001 and again")
    assert "with the $100 already granted or waiting on #99001 this needs a lead's agreement" in sixth
    assert bot.proposals()[-1].tier == Tier.LEAD


def test_what_was_agreed_counts_as_granted(bot: Bot) -> None:
    assert GRANTED in propose(bot, "late_fee 20 #99001 first")
    assert "with the $20 already granted on #99001 this needs a peer" in propose(bot, "late_fee 60 #99001 second")
    request = bot.request_message()
    bot.driver.click_button("U0BEN", channel="C0REQ", ts=request["ts"], action_id="approve")
    bot.wait_for_status("granted")
    assert "with the $80 already granted on #99001 this needs a peer" in propose(bot, "late_fee 20 #99001 third")


def test_out_of_policy_by_the_sum_says_so_and_records_nothing(bot: Bot) -> None:
    assert "a lead's agreement" in propose(bot, "late_fee 250 ACC-9 charged during outage")
    reply = propose(bot, "late_fee 60 ACC-9 and the month after")
    assert "outside Leeway's policy" in reply
    assert "with the $250 already granted or waiting on ACC-9 it comes to $310" in reply
    assert "the most a lead can approve is $300" in reply
    assert "up to $50 more" in reply
    bot.settle()
    assert [p.amount for p in bot.proposals()] == [Decimal(250)]


def test_the_form_says_why_an_amount_is_out_of_policy_by_the_sum(bot: Bot) -> None:
    propose(bot, "late_fee 280 ACC-9 outage")
    bot.driver.command("U0ANA", "")
    form = opened_form(bot)
    values = {
        "remedy_id": {INPUT: "late_fee"},
        "amount": {INPUT: "30"},
        "case_ref": {INPUT: "acc-9"},
        "summary": {INPUT: "x"},
    }
    reply = bot.driver.submit_view("U0ANA", form, values)
    error = reply.json["errors"]["amount"]
    assert "With the $280 already granted or waiting on acc-9, $30 is outside policy" in error
    assert len(bot.proposals()) == 1


def test_another_case_or_remedy_is_not_affected_and_cases_match_whatever_their_case(bot: Bot) -> None:
    assert GRANTED in propose(bot, "late_fee 20 #99001 first")
    assert GRANTED in propose(bot, "late_fee 20 #99002 another case")
    assert GRANTED in propose(bot, "refund 20 #99001 another remedy")
    assert GRANTED in propose(bot, "late_fee 5 acc-1 small")
    assert "with the $5 already granted on ACC-1 this needs a peer" in propose(bot, "late_fee 20 ACC-1 more")


def test_declined_withdrawn_and_expired_proposals_do_not_count(bot: Bot) -> None:
    propose(bot, "late_fee 60 #D-1 declined")
    decline(bot, "U0BEN", "no")
    bot.wait_for_status("declined")
    assert GRANTED in propose(bot, "late_fee 20 #D-1 after the decline")

    propose(bot, "late_fee 60 #W-1 withdrawn")
    assert "Withdrawn" in propose(bot, "withdraw #W-1")
    assert GRANTED in propose(bot, "late_fee 20 #W-1 after withdrawing")

    propose(bot, "late_fee 60 #E-1 no one answers")
    bot.clock.advance(hours=5)
    assert run_schedule(bot)[0] == 1
    assert GRANTED in propose(bot, "late_fee 20 #E-1 after it expired")
    assert [p.status for p in bot.proposals()] == ["declined", "granted", "withdrawn", "granted", "expired", "granted"]


def test_a_grant_older_than_the_window_does_not_count(bot: Bot) -> None:
    assert GRANTED in propose(bot, "late_fee 20 #99001 first")
    bot.clock.advance(days=29, hours=23)
    assert "with the $20 already granted on #99001" in propose(bot, "late_fee 20 #99001 within the window")
    bot.clock.advance(days=30, hours=1)
    assert GRANTED in propose(bot, "late_fee 20 #99001 a month later")


def test_the_window_is_the_policys(slack: StandInSlack, database_url: str, tmp_path: Path, bot: Bot) -> None:
    (tmp_path / "week").mkdir()
    weekly = start_bot(
        slack, database_url, tmp_path / "week", clock=bot.clock, policy=TEAM_POLICY + "case_window: 7d\n"
    )
    try:
        assert GRANTED in propose(weekly, "late_fee 20 #99001 first")
        bot.clock.advance(days=6)
        assert "already granted" in propose(weekly, "late_fee 20 #99001 within the week")
        bot.clock.advance(days=2)  # the first grant is past the window; the request of day 6 is not
        reply = propose(weekly, "late_fee 20 #99001 on day 8")
        assert "with the $20 already granted or waiting on #99001 this needs a peer" in reply
        bot.clock.advance(days=8)
        assert GRANTED in propose(weekly, "late_fee 20 #99001 a week after the last")
    finally:
        weekly.server.stop()
        weekly.leeway.close()


def test_simultaneous_proposals_on_a_fresh_case_are_not_all_granted_alone(
    slack: StandInSlack, database_url: str, tmp_path: Path, bot: Bot
) -> None:
    # Two instances on one database, each taking half of every burst at the same moment.
    (tmp_path / "second").mkdir()
    other = start_bot(slack, database_url, tmp_path / "second", clock=bot.clock)
    try:
        for burst in range(3):
            case = f"#B-{burst}"
            replies = all_at_once(
                [
                    (instance, user, f"late_fee 15 {case} together")
                    for instance in (bot, other)
                    for user in ("U0ANA", "U0BEN", "U0CHO")
                ]
            )
            # $15 twice is past the $20 alone limit: one is granted alone, the others ask a peer.
            assert len(replies) == 6
            assert sum(GRANTED in reply for reply in replies) == 1, replies
            assert sum("this needs a peer's agreement" in reply for reply in replies) == 5, replies
            on_case = [p for p in bot.proposals() if p.case_ref == case]
            assert granted_alone_total(bot, case) == Decimal(15)
            assert sorted((p.status, p.tier) for p in on_case) == sorted(
                [(Status.GRANTED, Tier.ALONE)] + [(Status.PENDING, Tier.PEER)] * 5
            )
    finally:
        other.server.stop()
        other.leeway.close()
