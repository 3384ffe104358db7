"""Several processes writing to one SQLite file, as worker processes do (WEB_CONCURRENCY): each
write waits its turn (SQLite's own lock, within the busy timeout) and none fails as locked."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text

from storage.db import make_engine, make_sessions, reading

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event

PROCESSES = 2
THREADS = 3  # per process: writers in one process queue on its own lock, too
WRITES = 40  # per thread


def write(url: str, process: int, go: Event) -> None:
    """In a process of its own: every thread counts what is there, then adds to it, in one
    transaction, holding it a moment so that the other process has to wait."""
    engine = make_engine(url)
    sessions = make_sessions(engine)

    failed: list[Exception] = []

    def writer(thread: int) -> None:
        try:
            for i in range(WRITES):
                with engine.begin() as connection:
                    seen = connection.execute(text("SELECT count(*) FROM hit")).scalar_one()
                    connection.execute(
                        text("INSERT INTO hit (process, thread, i, seen) VALUES (:p, :t, :i, :seen)"),
                        {"p": process, "t": thread, "i": i, "seen": seen},
                    )
                    time.sleep(0.002)
                with reading(sessions) as session:  # reads alongside, as requests do
                    session.execute(text("SELECT count(*) FROM hit")).scalar_one()
        except Exception as error:
            failed.append(error)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(THREADS)]
    go.wait(60)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    if failed:
        raise SystemExit(f"{len(failed)} of {THREADS} writers failed: {failed[0]!r}")


def test_writers_in_several_processes_take_turns_and_all_land(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE hit (process INTEGER, thread INTEGER, i INTEGER, seen INTEGER)"))
    spawn = multiprocessing.get_context("spawn")  # as uvicorn starts its workers
    go = spawn.Event()
    workers = [spawn.Process(target=write, args=(url, p, go)) for p in range(PROCESSES)]
    for worker in workers:
        worker.start()
    go.set()  # all at once
    for worker in workers:
        worker.join(120)
    try:
        assert [worker.exitcode for worker in workers] == [0] * PROCESSES  # no write failed
        with engine.connect() as connection:
            seen = connection.execute(text("SELECT seen FROM hit ORDER BY seen")).scalars().all()
        total = PROCESSES * THREADS * WRITES
        # Every write landed, and each saw all those before it: one at a time, across processes.
        assert seen == list(range(total))
    finally:
        engine.dispose()
