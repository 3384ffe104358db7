"""Reports are read on one thread, one at a time, behind the acks."""

from __future__ import annotations

import threading

import pytest

from bot.background import Background


def test_reports_are_read_one_at_a_time_on_a_thread_of_their_own() -> None:
    reports = Background()
    try:
        threads = {reports.run(threading.get_native_id) for _ in range(3)}
        assert len(threads) == 1
        assert threads != {threading.get_native_id()}
        with pytest.raises(ZeroDivisionError):
            reports.run(lambda: 1 // 0)
        assert reports.run(lambda: "still there") == "still there"
    finally:
        reports.close()
