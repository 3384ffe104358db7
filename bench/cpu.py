"""What one alone-tier (or peer-tier) proposal costs Leeway in CPU, in one process, without HTTP.

    python bench/cpu.py [--database sqlite|postgresql] [--proposals 3000] [--concurrency 8]
                        [--profile FILE.pstats] [--cases distinct|shared] [--tier alone|peer]

Leeway is built as `python -m bot run` builds it, against the stand-in Slack, and its ASGI app
is called directly with signed `/remedy` proposals, `--concurrency` at a time (as uvicorn would
hand them over), so group commit batches as it does under load. It prints the process's CPU
time per proposal (all threads: less sensitive to a loaded machine than wall-clock time, though
not immune), and with `--profile`, a cProfile of every thread, merged. For instruction counts,
immune to load, run it under `valgrind --tool=callgrind` with few proposals. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import text  # noqa: E402

import bot.web  # noqa: E402
from bot.runtime import build  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.standin import StandInSlack  # noqa: E402
from bot.standin.driver import sign  # noqa: E402
from storage.db import make_engine  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from run import AGENTS, POLICY, SECRET, reset_database  # noqa: E402


def requests(count: int, *, shared: bool, tag: str, amount: int = 10) -> list[tuple[dict[str, Any], bytes]]:
    now = str(int(time.time()))
    made = []
    for i in range(count):
        case = f"#{i % 50}" if shared else f"#{tag}{i}"  # shared: 50 cases, most proposals go to a peer
        body = urlencode(
            {
                "team_id": "T0LEEWAY",
                "channel_id": "C0GEN",
                "user_id": AGENTS[i % len(AGENTS)],
                "command": "/remedy",
                "text": f"refund {amount} {case} parcel broken",
                "api_app_id": "A0LEEWAY",
                "response_url": "http://127.0.0.1:9/unused",
                "trigger_id": f"{now}.{i}.{tag}{i:08d}",
            }
        ).encode()
        headers = [
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"x-slack-request-timestamp", now.encode()),
            (b"x-slack-signature", sign(SECRET, int(now), body).encode()),
        ]
        scope = {"type": "http", "method": "POST", "path": "/slack/events", "query_string": b"", "headers": headers}
        made.append((scope, body))
    return made


async def drive(app: Any, made: list[tuple[dict[str, Any], bytes]], concurrency: int) -> int:
    """Calls `app` with each request, `concurrency` at a time; the number answered 200."""
    queue = list(reversed(made))
    answered = 0

    async def one(scope: dict[str, Any], body: bytes) -> None:
        nonlocal answered
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal answered
            if message["type"] == "http.response.start" and message["status"] == 200:
                answered += 1

        await app(scope, receive, send)

    async def sender() -> None:
        while queue:
            await one(*queue.pop())

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return answered


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--proposals", type=int, default=3000)
    parser.add_argument("--warm", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--cases", choices=["distinct", "shared"], default="distinct")
    parser.add_argument("--tier", choices=["alone", "peer"], default="alone", help="refund 10, or 100")
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    pg_url = os.environ.get("LEEWAY_BENCH_POSTGRES_URL") or os.environ.get("LEEWAY_TEST_POSTGRES_URL")
    if args.database == "postgresql" and not pg_url:
        print("bench: PostgreSQL needs LEEWAY_BENCH_POSTGRES_URL (a database it may reset)", file=sys.stderr)
        return 2
    profiles: list[cProfile.Profile] = []
    profiling = threading.Event()

    def profiled_thread() -> None:
        profile = cProfile.Profile(time.thread_time)
        profiles.append(profile)
        tls.profile = profile

    tls = threading.local()
    pool = ThreadPoolExecutor(max_workers=32, initializer=profiled_thread if args.profile else None)

    async def to_thread(func: Any, /, *a: Any, **kw: Any) -> Any:
        def run() -> Any:
            profile = getattr(tls, "profile", None)
            if profile is None or not profiling.is_set():
                return func(*a, **kw)
            return profile.runcall(func, *a, **kw)

        return await asyncio.get_running_loop().run_in_executor(pool, run)

    bot.web.asyncio.to_thread = to_thread  # type: ignore[assignment]  # the dispatch threads, profiled
    with tempfile.TemporaryDirectory(prefix="leeway-cpu-") as tmp, StandInSlack() as api:
        workdir = Path(tmp)
        (workdir / "policy.yml").write_text(POLICY)
        url = reset_database(pg_url if args.database == "postgresql" and pg_url else "sqlite", workdir, "cpu")
        os.environ.update(
            SLACK_BOT_TOKEN="xoxb-bench",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=api.url,
            DATABASE_URL=url,
            LEEWAY_POLICY=str(workdir / "policy.yml"),
        )
        leeway = build(load_settings())
        try:
            app = leeway.asgi()
            asyncio.run(drive(app, requests(args.warm, shared=False, tag="warm"), args.concurrency))
            bot.web.freeze_startup_heap()  # as the server does before it serves
            made = requests(
                args.proposals, shared=args.cases == "shared", tag="cpu", amount=100 if args.tier == "peer" else 10
            )
            profiling.set()
            main_profile = cProfile.Profile(time.thread_time) if args.profile else None
            cpu, wall = time.process_time(), time.perf_counter()
            if main_profile:
                main_profile.enable()
            answered = asyncio.run(drive(app, made, args.concurrency))
            if main_profile:
                main_profile.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            profiling.clear()
            engine = make_engine(url)
            with engine.connect() as connection:
                stored = connection.execute(text("SELECT count(*) FROM proposal")).scalar()
            engine.dispose()
        finally:
            leeway.close()
            pool.shutdown()
    print(
        f"{args.database}: {answered} answered of {len(made)}, {stored} stored (with {args.warm} warm-up) · "
        f"CPU {cpu / len(made) * 1000:.3f} ms a proposal · wall {wall / len(made) * 1000:.3f} ms"
    )
    if args.profile and main_profile:
        stats = pstats.Stats(main_profile)
        for profile in profiles:
            stats.add(profile)
        stats.dump_stats(args.profile)
        stats.sort_stats("cumulative").print_stats(60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
