"""The API for the company's systems, through the real server: proposals for an agent, where
they stand, idempotent replays, every error as a problem document, and the decisions."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from bot.core.vocabulary import Scope
from bot.services import integrations
from bot.standin import StandInSlack
from storage.models import IdempotentAnswer
from tests.e2e.api_support import client, proposal, running, token_for
from tests.e2e.support import Bot, instances
from tests.policies import TEAM_POLICY
from tests.support import REPO, FakeClock, wipe

pytestmark = pytest.mark.e2e

PROBLEM = "application/problem+json"


@pytest.fixture
def bot(slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path) -> Iterator[Bot]:
    with running(slack, database_url, engine, tmp_path) as started:
        yield started


@pytest.fixture
def helpdesk(bot: Bot) -> Iterator[httpx.Client]:
    with client(bot, token_for(bot)) as http:
        yield http


def post(http: httpx.Client, key: str, body: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
    return http.post(
        "/proposals", json=proposal() if body is None else body, headers={"Idempotency-Key": key, **headers}
    )


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    document: dict[str, Any] = response.json()
    assert document["status"] == status
    assert document["type"].startswith("urn:leeway:problem:")
    assert document["title"]
    assert document["detail"]
    return document


def fields(document: dict[str, Any]) -> list[str]:
    return [error["field"] for error in document.get("errors", [])]


def idempotent_answers(bot: Bot) -> int:
    with bot.session() as session:
        return int(session.scalar(select(func.count()).select_from(IdempotentAnswer)) or 0)


def test_an_agent_s_proposal_within_their_own_authority_is_granted_at_once(bot: Bot, helpdesk: httpx.Client) -> None:
    response = post(helpdesk, "order-1")

    assert response.status_code == 201
    answer = response.json()
    assert answer["status"] == "granted"
    assert answer["tier"] == "alone"
    assert (answer["remedy"], answer["amount"], answer["unit"], answer["case"]) == ("late_fee", "15.00", "USD", "#4711")
    assert (answer["requested_by"], answer["proposer"], answer["decided_by"]) == ("agent", "U0ANA", "U0ANA")
    assert response.headers["location"] == f"/api/v1/proposals/{answer['id']}"
    # The path /remedy follows for that agent: recorded, posted and celebrated.
    decision = bot.api.wait_for("chat.postMessage", channel="C0DEC")[0].args
    assert "<@U0ANA>" in decision["text"]
    assert "#4711" in decision["text"]
    bot.api.wait_for("chat.postMessage", channel="C0KUD")
    stored = bot.only_proposal()
    assert (stored.id, stored.status, str(stored.customer_fair)) == (answer["id"], "granted", "10.00")


def test_above_their_authority_it_waits_and_get_follows_it_to_the_grant(bot: Bot, helpdesk: httpx.Client) -> None:
    response = post(helpdesk, "order-2", proposal(amount=60))

    assert response.status_code == 202
    answer = response.json()
    assert (answer["status"], answer["tier"], answer["decided_at"]) == ("pending", "peer", None)
    assert helpdesk.get(f"/proposals/{answer['id']}").json() == answer

    request = bot.request_message()
    bot.driver.click_button("U0BEN", channel="C0REQ", ts=request["ts"], action_id="approve")
    bot.wait_for_status("granted")
    now = helpdesk.get(f"/proposals/{answer['id']}")
    assert now.status_code == 200
    assert (now.json()["status"], now.json()["decided_by"]) == ("granted", "U0BEN")


def test_the_same_key_and_body_get_the_same_answer_and_create_nothing(bot: Bot, helpdesk: httpx.Client) -> None:
    first = post(helpdesk, "order-3")
    again = post(helpdesk, "order-3", proposal(amount=15))  # the same amount, written as a number

    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(bot.proposals()) == 1
    bot.settle()
    assert len(bot.api.calls_to("chat.postMessage", channel="C0DEC")) == 1

    pending = post(helpdesk, "order-4", proposal(amount=60, case="#4712"))
    assert post(helpdesk, "order-4", proposal(amount=60, case="#4712")).json() == pending.json()
    assert post(helpdesk, "order-4", proposal(amount=60, case="#4712")).status_code == 202
    assert len(bot.proposals()) == 2


def test_identical_requests_sent_together_record_one_proposal(bot: Bot, helpdesk: httpx.Client) -> None:
    body = proposal(amount=60)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: post(helpdesk, "order-twins", body), range(8)))
    assert {a.status_code for a in answers} == {202}
    assert len({json.dumps(a.json(), sort_keys=True) for a in answers}) == 1
    assert len(bot.proposals()) == 1
    bot.api.wait_for("chat.postMessage", channel="C0REQ")
    bot.settle()
    assert len(bot.api.calls_to("chat.postMessage", channel="C0REQ")) == 1


def test_the_same_key_with_another_body_is_a_conflict(bot: Bot, helpdesk: httpx.Client) -> None:
    post(helpdesk, "order-5")
    conflict = problem(post(helpdesk, "order-5", proposal(amount="16")), 409)
    assert "Idempotency-Key" in conflict["detail"]
    assert len(bot.proposals()) == 1


def test_a_missing_unknown_or_revoked_token_is_401_with_a_challenge(bot: Bot) -> None:
    token = token_for(bot)
    for http in (client(bot), client(bot, "lw_not-a-token"), client(bot, "nonsense")):
        with http:
            refused = post(http, "order-6")
            problem(refused, 401)
            assert refused.headers["www-authenticate"].startswith("Bearer")
    with client(bot) as http:
        basic = http.get("/proposals/1", headers={"Authorization": f"Basic {token}"})
        problem(basic, 401)
    with client(bot, token) as http:
        assert post(http, "order-6").status_code == 201
    integrations.revoke_integration(bot.leeway.ctx.sessions, name="helpdesk", now=bot.clock())
    with client(bot, token) as http:
        problem(post(http, "order-7"), 401)
    assert len(bot.proposals()) == 1


def test_a_token_without_the_scope_is_403(bot: Bot) -> None:
    with client(bot, token_for(bot, "reports", Scope.READ)) as reports:
        refused = problem(post(reports, "order-8"), 403)
        assert "propose" in refused["detail"]
    with client(bot, token_for(bot, "helpdesk")) as helpdesk:
        problem(helpdesk.get("/decisions", params={"since": "2026-01-01T00:00:00Z"}), 403)
    assert bot.proposals() == []


def test_a_body_over_the_limit_is_413_before_it_is_read(bot: Bot, helpdesk: httpx.Client) -> None:
    huge = proposal(what_happened="x" * 70_000)
    problem(post(helpdesk, "order-9", huge), 413)
    assert bot.proposals() == []
    assert idempotent_answers(bot) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (proposal(amount="-3"), "amount"),
        (proposal(amount="1.234"), "amount"),
        (proposal(amount="lots"), "amount"),
        (proposal(remedy="pony"), "remedy"),
        (proposal(case=""), "case"),
        (proposal(agent="ana"), "agent"),
        (proposal(agent=None), "agent"),
        (proposal(requested_by="someone"), "requested_by"),
        (proposal(customer={"id": 7}), "customer.id"),
        (proposal(colour="blue"), "colour"),
        (proposal(amount="5000"), "amount"),  # above the lead limit
        (proposal(agent="U0NOBODY"), "agent"),  # not someone the policy lets propose
        (proposal(requested_by="customer", agent=None, amount="5000"), "amount"),  # a customer, above the lead limit
    ],
)
def test_bad_input_is_422_naming_the_field(bot: Bot, helpdesk: httpx.Client, body: dict[str, Any], field: str) -> None:
    document = problem(post(helpdesk, "order-10", body), 422)
    assert field in fields(document), document
    assert bot.proposals() == []
    assert idempotent_answers(bot) == 0
    # Nothing was kept of it: the key may carry the corrected request.
    assert post(helpdesk, "order-10").status_code == 201


def test_a_missing_idempotency_key_or_a_body_that_is_not_json_is_422(bot: Bot, helpdesk: httpx.Client) -> None:
    missing = problem(helpdesk.post("/proposals", json=proposal()), 422)
    assert fields(missing) == ["Idempotency-Key"]
    assert fields(problem(post(helpdesk, "k" * 201), 422)) == ["Idempotency-Key"]  # too long to record
    garbled = helpdesk.post(
        "/proposals", content=b"{not json", headers={"Idempotency-Key": "k", "Content-Type": "application/json"}
    )
    assert problem(garbled, 422)["errors"]
    assert bot.proposals() == []
    assert post(helpdesk, "k" * 200).status_code == 201  # the longest key, recorded on both databases


def test_unknown_proposals_routes_and_methods_are_problems_too(bot: Bot, helpdesk: httpx.Client) -> None:
    problem(helpdesk.get("/proposals/999"), 404)
    assert fields(problem(helpdesk.get("/proposals/abc"), 422)) == ["proposal_id"]
    problem(helpdesk.get("/nothing-here"), 404)
    problem(helpdesk.delete("/proposals"), 405)
    # What isn't under /api/ is as it was.
    assert httpx.get(f"{bot.server.url}/healthz").json()["status"] == "ok"


def test_a_propose_token_sees_its_own_proposals_and_a_read_token_sees_any(bot: Bot, helpdesk: httpx.Client) -> None:
    mine = post(helpdesk, "order-11").json()
    with client(bot, token_for(bot, "shop")) as shop:
        problem(shop.get(f"/proposals/{mine['id']}"), 404)
    with client(bot, token_for(bot, "reports", Scope.READ)) as reports:
        assert reports.get(f"/proposals/{mine['id']}").json() == mine


def test_decisions_made_at_one_instant_are_paged_through_each_once(bot: Bot, helpdesk: httpx.Client) -> None:
    # More decisions at one instant than a page holds: paging by time alone would repeat the
    # same page for ever; the page's last id carries it on.
    for n in range(5):
        assert post(helpdesk, f"same-{n}", proposal(case=f"#{n}")).status_code == 201
    with client(bot, token_for(bot, "reports", Scope.READ)) as reports:
        params: dict[str, str | int] = {"since": "2026-01-01T00:00:00Z", "limit": 2}
        seen: list[str] = []
        for _ in range(5):
            page = reports.get("/decisions", params=params).json()
            seen += [d["case"] for d in page["decisions"]]
            if page["next_since"] is None:
                break
            params = {"since": page["next_since"], "after_id": page["next_after_id"], "limit": 2}
        assert seen == ["#0", "#1", "#2", "#3", "#4"]
        exported = reports.get(
            "/decisions", params={"since": "2026-01-01T00:00:00Z", "limit": 2}, headers={"Accept": "text/csv"}
        )
        link = exported.headers["Link"]
        assert "after_id=" in link
        following = reports.get(link[1 : link.index(">")].removeprefix("/api/v1"), headers={"Accept": "text/csv"})
        assert [row["case"] for row in csv.DictReader(io.StringIO(following.text))] == ["#2", "#3"]


def test_the_decisions_as_json_and_as_csv_a_page_at_a_time(bot: Bot, helpdesk: httpx.Client) -> None:
    for n in range(3):
        bot.clock.advance(seconds=1)
        assert post(helpdesk, f"order-{n}", proposal(case=f"#{n}")).status_code == 201
    post(helpdesk, "waits", proposal(case="#9", amount=60))  # pending: not a decision yet
    with client(bot, token_for(bot, "reports", Scope.READ)) as reports:
        since = "2026-01-01T00:00:00Z"
        page = reports.get("/decisions", params={"since": since, "limit": 2}).json()
        assert [d["case"] for d in page["decisions"]] == ["#0", "#1"]
        assert page["decisions"][0]["amount"] == "15.00"
        assert page["next_after_id"] == page["decisions"][-1]["id"]
        seen = [d["case"] for d in page["decisions"]]
        for _ in range(5):
            if page["next_since"] is None:
                break
            params = {"since": page["next_since"], "after_id": page["next_after_id"], "limit": 2}
            page = reports.get("/decisions", params=params).json()
            seen += [d["case"] for d in page["decisions"]]
        assert page["next_since"] is None
        assert seen == ["#0", "#1", "#2"]  # each once, in order
        last = reports.get("/decisions", params={"since": since}).json()
        assert (len(last["decisions"]), last["next_since"], last["next_after_id"]) == (3, None, None)

        exported = reports.get("/decisions", params={"since": since}, headers={"Accept": "text/csv"})
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert [row["case"] for row in rows] == ["#0", "#1", "#2"]
        assert {row["status"] for row in rows} == {"granted"}
        linked = reports.get("/decisions", params={"since": since, "limit": 1}, headers={"Accept": "text/csv"})
        assert 'rel="next"' in linked.headers["link"]

        problem(reports.get("/decisions", params={"since": "yesterday"}), 422)
        beyond = problem(reports.get("/decisions", params={"since": "0001-01-01T00:00:00+14:00"}), 422)
        assert fields(beyond) == ["since"]
        assert fields(problem(reports.get("/decisions", params={"since": "2026-01-01T00:00:00"}), 422)) == ["since"]


def test_each_integration_gets_its_requests_a_minute_then_429_with_retry_after(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    with running(slack, database_url, engine, tmp_path, api_rate_limit_per_minute=3) as bot:
        bot.clock.advance(seconds=15)
        with client(bot, token_for(bot)) as helpdesk, client(bot, token_for(bot, "shop")) as shop:
            for n in range(3):
                assert post(helpdesk, f"k-{n}", proposal(case=f"#{n}")).status_code == 201
            limited = post(helpdesk, "k-3", proposal(case="#3"))
            problem(limited, 429)
            assert limited.headers["retry-after"] == "45"
            assert post(shop, "k-3", proposal(case="#3")).status_code == 201  # its own count
            bot.clock.advance(seconds=45)
            assert post(helpdesk, "k-3", proposal(case="#4")).status_code == 201
        assert len(bot.proposals()) == 5


def test_the_rate_limit_holds_across_instances(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    slack.reset()
    wipe(engine)
    with instances(
        slack, database_url, tmp_path, policy=TEAM_POLICY, clock=FakeClock(), api_rate_limit_per_minute=3
    ) as (one, other):
        token = token_for(one)
        with client(one, token) as first, client(other, token) as second:
            assert post(first, "k-1", proposal(case="#1")).status_code == 201
            assert post(second, "k-2", proposal(case="#2")).status_code == 201
            assert post(first, "k-3", proposal(case="#3")).status_code == 201
            problem(post(second, "k-4", proposal(case="#4")), 429)
            problem(post(first, "k-4", proposal(case="#4")), 429)
    wipe(engine)


def cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    environment["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "bot", "integration", *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_line_adds_lists_and_revokes_integrations(bot: Bot, database_url: str) -> None:
    added = cli(database_url, "add", "helpdesk")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip().splitlines()[-1]
    assert token.startswith("lw_")
    both = cli(database_url, "add", "reports", "--scope", "read", "--scope", "propose")
    assert both.returncode == 0

    taken = cli(database_url, "add", "helpdesk")
    assert taken.returncode != 0
    assert "exists already" in taken.stderr
    assert cli(database_url, "add", "x", "--scope", "write").returncode != 0

    listed = cli(database_url, "list")
    assert listed.returncode == 0
    assert token not in listed.stdout
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["name", "scopes", "created", "revoked"]
    assert [line.split()[0] for line in lines[1:]] == ["helpdesk", "reports"]
    assert "propose read" in lines[2]

    with client(bot, token) as helpdesk:
        assert post(helpdesk, "order-12").status_code == 201
        revoked = cli(database_url, "revoke", "helpdesk")
        assert revoked.returncode == 0
        assert "revoked" in revoked.stdout
        problem(post(helpdesk, "order-13"), 401)
    assert "UTC" in cli(database_url, "list").stdout.splitlines()[1].split("UTC", 1)[1]
    unknown = cli(database_url, "revoke", "nobody")
    assert unknown.returncode != 0
    assert "no integration named" in unknown.stderr


def test_the_openapi_document_is_served_as_openapi_3_1(bot: Bot) -> None:
    document = httpx.get(f"{bot.server.url}/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    post_responses = document["paths"]["/api/v1/proposals"]["post"]["responses"]
    assert set(post_responses) >= {"201", "202", "401", "403", "409", "413", "422", "429"}
    for code in ("401", "403", "409", "413", "422", "429"):
        assert list(post_responses[code]["content"]) == [PROBLEM], code
    assert "Retry-After" in post_responses["429"]["headers"]
    json.dumps(document)
