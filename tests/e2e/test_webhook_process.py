"""A grant's webhook survives `kill -9`: `python -m bot run` in its own process grants with the
endpoint down and is killed outright; restarted with the endpoint up, it delivers the event once,
exactly as signed."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine, text

from bot.standin import StandInSlack
from tests.e2e.test_process import PROCESS_POLICY, free_port, leeway_env, run_cli, start_process, stop_all
from tests.e2e.test_webhooks import ALL_EVENTS, SECRET, SECRET_ENV, signed, webhooks_block
from tests.receiver import Receiver
from tests.support import wipe


def webhook_row(engine: Engine) -> tuple[str, int, int | None] | None:
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT status, attempts, proposal_id FROM outbox_message WHERE kind = 'webhook'")
        ).first()
    return (str(row[0]), int(row[1]), row[2]) if row else None


def test_kill_9_after_a_grant_with_the_endpoint_down_loses_no_event(
    slack: StandInSlack, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    slack.reset()
    wipe(engine)
    port = free_port()  # nothing listens there yet: the endpoint is down
    policy = PROCESS_POLICY + webhooks_block((f"http://127.0.0.1:{port}/leeway", ALL_EVENTS, SECRET_ENV))
    first, driver, _ = start_process(slack, database_url, tmp_path, policy=policy, **{SECRET_ENV: SECRET})
    second = None
    try:
        assert "Granted" in driver.command("U0ANA", "refund 20 #4711 parcel broken").json["text"]
        deadline = time.monotonic() + 10
        while (row := webhook_row(engine)) is None or row[1] < 1:  # its first try was refused
            assert time.monotonic() < deadline, f"the event was never tried: {row}"
            time.sleep(0.05)  # polling a process we started; no test clock involved
        first.kill()  # kill -9: no cleanup, no goodbye
        first.wait(timeout=10)
        status, _, proposal_id = webhook_row(engine) or ("", 0, None)
        assert status in ("pending", "sending")
        with Receiver(port) as receiver:
            second, _, _ = start_process(slack, database_url, tmp_path, policy=policy, **{SECRET_ENV: SECRET})
            (request,) = receiver.wait_for(1, timeout=30)  # the retry falls due 10 s after the first try
            event = signed(request, now=time.time())  # README's receiver, on the real clock
            assert event["type"] == "granted"
            assert event["data"]["proposal"]["id"] == proposal_id
            assert event["data"]["proposal"]["case"] == "#4711"
            deadline = time.monotonic() + 10
            while (webhook_row(engine) or ("",))[0] != "sent":
                assert time.monotonic() < deadline
                time.sleep(0.05)
            time.sleep(1.0)  # room for a wrong second delivery to arrive
            assert len(receiver.received) == 1
    finally:
        stop_all(first, second)
        wipe(engine)
        slack.reset()


def test_a_missing_webhook_secret_stops_start_up_with_one_clear_line(tmp_path: Path) -> None:
    policy = PROCESS_POLICY + webhooks_block(("https://refunds.internal.example/leeway", "[granted]", SECRET_ENV))
    (tmp_path / "policy.yml").write_text(policy)
    env = leeway_env(
        SLACK_BOT_TOKEN="xoxb-x",
        SLACK_SIGNING_SECRET="x" * 16,
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
        LEEWAY_POLICY="policy.yml",
    )
    result = run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"leeway: policy.yml: webhooks[0].secret_env: {SECRET_ENV} is not set (or empty): set it to the signing "
        "secret the receiver at refunds.internal.example checks Leeway-Signature with"
    ]
