"""Group commit: writes that arrive together share one write, and fail only themselves."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from bot.group_commit import GroupCommit


class Writes:
    """A write function that records each batch it is given; `hold` keeps the first one open.
    Items in `bad` fail the write they are in; `down` fails every write after the first."""

    def __init__(self, bad: frozenset[int] = frozenset(), down: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.bad = bad
        self.down = down
        self.hold = threading.Event()
        self.hold.set()
        self.started = threading.Event()

    def __call__(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        self.started.set()
        assert self.hold.wait(10)
        if self.down and len(self.batches) > 1:
            raise ConnectionError("the database went away")
        if self.bad & set(items):
            raise ValueError(f"bad items in {sorted(items)}")
        return [item * 10 for item in items]


def wait_until(condition: object, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_a_lone_write_goes_at_once() -> None:
    writes = Writes()
    assert GroupCommit[int, int]().submit(7, writes) == 70
    assert writes.batches == [[7]]


def arriving_during_a_write(together: GroupCommit[int, int], writes: Writes, items: range) -> dict[int, object]:
    """Item 0 starts a write that is held open; `items` arrive meanwhile; then it finishes.
    Returns what each of `items` got back: its result, or the error it raised."""
    writes.hold.clear()
    first = threading.Thread(target=lambda: together.submit(0, writes))
    first.start()
    assert writes.started.wait(10)
    outcomes: dict[int, object] = {}

    def one(item: int) -> None:
        try:
            outcomes[item] = together.submit(item, writes)
        except (ValueError, ConnectionError) as error:
            outcomes[item] = error

    threads = [threading.Thread(target=one, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    wait_until(lambda: together.waiting == len(items))
    writes.hold.set()
    for thread in [first, *threads]:
        thread.join(10)
    return outcomes


def test_writes_that_arrive_during_a_write_share_the_next_one() -> None:
    writes = Writes()
    outcomes = arriving_during_a_write(GroupCommit(), writes, range(1, 8))
    assert writes.batches[0] == [0]
    assert sorted(writes.batches[1]) == [1, 2, 3, 4, 5, 6, 7]  # seven callers, one write
    assert len(writes.batches) == 2
    assert outcomes == {i: i * 10 for i in range(1, 8)}  # each caller gets its own result


def test_a_bad_item_fails_only_itself() -> None:
    writes = Writes(bad=frozenset({3}))
    outcomes = arriving_during_a_write(GroupCommit(), writes, range(1, 5))
    # The shared write failed as a whole; each item was then written on its own.
    assert sorted(writes.batches[1]) == [1, 2, 3, 4]
    assert sorted(b[0] for b in writes.batches[2:]) == [1, 2, 3, 4]
    assert {i: outcomes[i] for i in (1, 2, 4)} == {1: 10, 2: 20, 4: 40}
    assert isinstance(outcomes[3], ValueError)


def test_a_failed_lone_write_raises_to_its_caller() -> None:
    with pytest.raises(ValueError, match="bad items"):
        GroupCommit[int, int]().submit(3, Writes(bad=frozenset({3})))


def test_a_batch_is_bounded() -> None:
    writes = Writes()
    outcomes = arriving_during_a_write(GroupCommit(max_batch=3), writes, range(1, 8))
    assert all(len(batch) <= 3 for batch in writes.batches)
    assert sorted(i for batch in writes.batches for i in batch) == list(range(8))
    assert outcomes == {i: i * 10 for i in range(1, 8)}


def test_an_error_that_is_no_one_items_fault_is_everyones_answer_at_once() -> None:
    writes = Writes(down=True)
    outcomes = arriving_during_a_write(GroupCommit(alone_on=(ValueError,)), writes, range(1, 5))
    assert len(writes.batches) == 2  # no item-by-item retries into a database that is down
    assert all(isinstance(outcomes[i], ConnectionError) for i in range(1, 5))
