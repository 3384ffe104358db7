"""Leeway's benchmark: the bot as a user starts it, against the stand-in Slack, next to the floor
of a bare Bolt app that only acknowledges, measured in the same run. Prints figures; asserts nothing.

    python bench/run.py [--database sqlite|postgresql|both] [--concurrency 8] [--duration 10] [--burst 30]
                        [--bot CHECKOUT ...] [--workers N ...]

`--bot` measures other checkouts of Leeway in the same run (each started with its own
`.venv/bin/python`), for a before-and-after comparison on one machine. `--workers` measures the
bot with that many worker processes (WEB_CONCURRENCY), once for each given; without it, the
bot's own default or the environment's WEB_CONCURRENCY.

PostgreSQL comes from LEEWAY_BENCH_POSTGRES_URL or LEEWAY_TEST_POSTGRES_URL (a database it may
reset). The load comes from wrk (Debian's `wrk` package) with pre-signed, distinct bodies, so the
generator is not the bottleneck; a signature stays valid for Slack's five minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import text  # noqa: E402

from bot.standin import SlackDriver, StandInSlack  # noqa: E402
from bot.standin.driver import sign  # noqa: E402
from storage.db import make_engine  # noqa: E402

SECRET = "bench-signing-secret"
AGENTS = [f"U0A{i:03d}" for i in range(20)]
WRK_THREADS = 2
POLICY = f"""\
currency: USD
channels: {{requests: C0REQ, decisions: C0DEC, kudos: C0KUD}}
people:
  agents: [{", ".join(AGENTS)}]
  leads: [U0LEAD]
remedies:
  - id: refund
    label: Refund
    alone_up_to: 50
    peer_up_to: 150
    lead_up_to: 500
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bench: {url} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers (a 401/404 is an answer)
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"bench: {url} never answered")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def write_bodies(path: Path, count: int, text: str) -> None:
    """Distinct signed slash commands: each its own trigger_id, so each is a new proposal."""
    now = int(time.time())
    batch = path.stem  # trigger ids differ between files written in the same second
    with path.open("w") as out:
        for i in range(count):
            body = urlencode(
                {
                    "token": "bench",
                    "team_id": "T0LEEWAY",
                    "team_domain": "bench",
                    "channel_id": "C0GEN",
                    "channel_name": "general",
                    "user_id": AGENTS[i % len(AGENTS)],
                    "user_name": "agent",
                    "command": "/remedy",
                    "text": text.format(i=i),
                    "api_app_id": "A0LEEWAY",
                    "is_enterprise_install": "false",
                    "response_url": "http://127.0.0.1:9/unused",
                    "trigger_id": f"{now}.{i}.{batch}{i:08d}",
                }
            ).encode()
            out.write(f"{now}\t{sign(SECRET, now, body)}\t{body.decode()}\n")


def wrk(url: str, bodies: Path, *, concurrency: int, duration: int, timeout: int | None = None) -> dict[str, float]:
    """`timeout`: seconds before wrk gives up on a request (its own default is 2)."""
    env = {**os.environ, "BENCH_BODIES": str(bodies), "BENCH_THREADS": str(WRK_THREADS)}
    result = subprocess.run(
        [
            "wrk",
            f"-t{WRK_THREADS}",
            f"-c{concurrency}",
            f"-d{duration}s",
            *([f"--timeout={timeout}s"] if timeout else []),
            "--latency",
            "-s",
            str(Path(__file__).with_name("signed.lua")),
            url,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"^BENCH (\{.*\})$", result.stdout, re.MULTILINE)
    if not match:
        raise SystemExit(f"bench: wrk printed no summary:\n{result.stdout}\n{result.stderr}")
    figures: dict[str, float] = json.loads(match.group(1))
    figures["per_second"] = figures["requests"] / figures["seconds"]
    return figures


@contextmanager
def floor_app(api: StandInSlack) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("floor.py")), str(port), SECRET, api.url],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/slack/events", process)
        yield f"http://127.0.0.1:{port}/slack/events"
    finally:
        stop(process)


def reset_database(url: str, workdir: Path, name: str) -> str:
    if url == "sqlite":
        path = workdir / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"

    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def bot_environment(
    api: StandInSlack, database_url: str, port: int, checkout: Path = REPO, log_level: str = "WARNING"
) -> dict[str, str]:
    """What `python -m bot run` is started with: the stand-in Slack, the policy.yml beside it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LEEWAY_"))}
    env.update(
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api.url,
        DATABASE_URL=database_url,
        LEEWAY_POLICY="policy.yml",
        HOST="127.0.0.1",
        PORT=str(port),
        LOG_LEVEL=log_level,
        PYTHONPATH=str(checkout),
    )
    return env


@contextmanager
def leeway(
    api: StandInSlack, database_url: str, workdir: Path, checkout: Path = REPO, workers: int | None = None
) -> Iterator[str]:
    """`python -m bot run`, as a user starts it (from `checkout`, with that checkout's own Python)."""
    (workdir / "policy.yml").write_text(POLICY)
    port = free_port()
    env = bot_environment(api, database_url, port, checkout)
    if workers is not None:
        env["WEB_CONCURRENCY"] = str(workers)
    python = sys.executable if checkout == REPO else str(checkout / ".venv" / "bin" / "python")
    process = subprocess.Popen([python, "-m", "bot", "run"], cwd=workdir, env=env)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def recorded(database_url: str) -> tuple[int, int]:

    engine = make_engine(database_url)
    with engine.connect() as connection:
        proposals = connection.execute(text("SELECT count(*) FROM proposal")).scalar() or 0
        owed = connection.execute(text("SELECT count(*) FROM outbox_message")).scalar() or 0
    engine.dispose()
    return int(proposals), int(owed)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def approvals(api: StandInSlack, base: str, count: int) -> list[float]:
    """Seconds from an Approve click to the decision post, spaced so pacing doesn't add to it."""
    driver = SlackDriver(f"{base}/slack/events", SECRET, api=api)
    for i in range(count):
        driver.command(AGENTS[0], f"refund 100 #A{i} needs a peer")
    requests = api.wait_for("chat.postMessage", channel="C0REQ", count=count, timeout=60)
    took = []
    for i, call in enumerate(requests):
        before = len(api.calls_to("chat.postMessage", channel="C0DEC"))
        started = time.perf_counter()
        driver.click_button(AGENTS[1], channel="C0REQ", ts=call.response["ts"], action_id="approve")
        api.wait_for("chat.postMessage", channel="C0DEC", count=before + 1, timeout=30)
        took.append(time.perf_counter() - started)
        if i + 1 < count:
            time.sleep(1.1)  # one decision post a second per channel: stay out of the pacing
    return took


def burst(api: StandInSlack, base: str, size: int) -> float:
    """Seconds until `size` decisions made at once are all posted (decisions and kudos)."""
    driver = SlackDriver(f"{base}/slack/events", SECRET, api=api)
    before = len(api.calls_to("chat.postMessage", channel="C0DEC"))
    started = time.perf_counter()
    for i in range(size):
        driver.command(AGENTS[i % len(AGENTS)], f"refund 10 #B{i} burst")
    api.wait_for("chat.postMessage", channel="C0DEC", count=before + size, timeout=size * 3 + 30)
    api.wait_for("chat.postMessage", channel="C0KUD", count=before + size, timeout=size * 3 + 30)
    return time.perf_counter() - started


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per run")
    parser.add_argument("--approvals", type=int, default=10)
    parser.add_argument("--burst", type=int, default=30)
    parser.add_argument("--bot", type=Path, action="append", default=[], help="another checkout to measure too")
    parser.add_argument("--workers", type=int, action="append", default=[], help="worker processes (repeatable)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("bench: needs wrk (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    pg_url = os.environ.get("LEEWAY_BENCH_POSTGRES_URL") or os.environ.get("LEEWAY_TEST_POSTGRES_URL")
    if "postgresql" in databases and not pg_url:
        print("bench: PostgreSQL needs LEEWAY_BENCH_POSTGRES_URL (a database it may reset)", file=sys.stderr)
        return 2
    checkouts = [REPO, *(path.resolve() for path in args.bot)]
    # Enough distinct bodies for the run even at a few thousand a second.
    bodies_count = max(20_000, args.duration * 3_000)
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="leeway-bench-") as tmp, StandInSlack() as api:
        workdir = Path(tmp)
        bodies = workdir / "bodies.txt"
        write_bodies(bodies, bodies_count, "refund 10 #{i} parcel broken")
        with floor_app(api) as url:
            wrk(url, bodies, concurrency=args.concurrency, duration=2)  # warm up
            floor = wrk(url, bodies, concurrency=args.concurrency, duration=args.duration)
        lines.append(
            f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()} · wrk -t{WRK_THREADS} "
            f"-c{args.concurrency} -d{args.duration}s · pre-signed distinct bodies"
        )
        lines.append(
            f"floor (bare Bolt app, ack only, uvicorn, dispatch on the event loop): {floor['per_second']:.0f} acks/s"
            f" · ack p50 {floor['p50_ms']:.1f} ms · p99 {floor['p99_ms']:.1f} ms"
        )
        for checkout, workers in [(c, w) for c in checkouts for w in args.workers or [None]]:
            name = "" if checkout == REPO else f"{checkout.name} · "
            name += "" if workers is None else f"{workers} worker{'s' if workers > 1 else ''} · "
            for database in databases:
                lines += throughput(
                    api, args, workdir, checkout, database, pg_url, floor, f"{name}{database}", workers=workers
                )
                url = reset_database(pg_url if database == "postgresql" else "sqlite", workdir, "latency")
                api.reset()
                with leeway(api, url, workdir, checkout, workers) as base:
                    took = approvals(api, base, args.approvals)
                    drained = burst(api, base, args.burst)
                lines.append(
                    f"{name}{database}: approval → decision post p50 {statistics.median(took) * 1000:.0f} ms · "
                    f"p99 {percentile(took, 0.99) * 1000:.0f} ms ({len(took)} approvals) · a burst of "
                    f"{args.burst} decisions fully posted in {drained:.1f} s (paced: one post a second "
                    "per channel)"
                )
    print("\n".join(lines))
    return 0


def throughput(
    api: StandInSlack,
    args: argparse.Namespace,
    workdir: Path,
    checkout: Path,
    database: str,
    pg_url: str | None,
    floor: dict[str, float],
    label: str,
    *,
    workers: int | None = None,
) -> list[str]:
    """Proposals within the agent's own authority, at full load, against the targets."""
    url = reset_database(pg_url if database == "postgresql" and pg_url else "sqlite", workdir, "throughput")
    warm_bodies, bodies = workdir / "warm.txt", workdir / "bodies.txt"
    write_bodies(warm_bodies, 5_000, "refund 10 #W{i} warm-up")
    write_bodies(bodies, max(20_000, args.duration * 3_000), "refund 10 #{i} parcel broken")  # fresh timestamps
    api.reset()
    with leeway(api, url, workdir, checkout, workers) as base:
        wrk(f"{base}/slack/events", warm_bodies, concurrency=args.concurrency, duration=2)
        before, owed_before = recorded(url)
        run = wrk(f"{base}/slack/events", bodies, concurrency=args.concurrency, duration=args.duration)
        after, owed_after = recorded(url)
    ok = run["requests"] - run["non200"]
    rate, tail = run["per_second"] / floor["per_second"], run["p99_ms"] / floor["p99_ms"]
    return [
        f"{label}: {run['per_second']:.0f} proposals/s ({rate:.0%} of the floor) · ack p50 "
        f"{run['p50_ms']:.1f} ms · p99 {run['p99_ms']:.1f} ms ({tail:.1f}× the floor) · {after - before} "
        f"proposals recorded for {ok:.0f} answered, with {owed_after - owed_before} posts owed · errors "
        f"{run['errors']:.0f}",
        f"{label}: targets · rate ≥ a third of the floor: {_met(rate >= 1 / 3)} · p99 ≤ 3× the floor: "
        f"{_met(tail <= 3)} · p99 < 50 ms: {_met(run['p99_ms'] < 50)}",
    ]


if __name__ == "__main__":
    sys.exit(main())
