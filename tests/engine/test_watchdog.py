"""The deadline thread: deadlines fire on time, in any order of arrival; ended ones are dropped."""

from __future__ import annotations

import threading
import time

from gnomon.engine.watchdog import Budget, _Scheduler


def test_an_earlier_deadline_wakes_the_thread_sleeping_for_a_later_one() -> None:
    scheduler = _Scheduler()
    fired = threading.Event()
    scheduler.schedule(time.monotonic() + 60, lambda: None)
    time.sleep(0.05)  # the thread now sleeps until the 60 s deadline
    started = time.monotonic()
    scheduler.schedule(started + 0.05, fired.set)
    assert fired.wait(5)
    assert time.monotonic() - started < 2


def test_a_later_deadline_does_not_delay_an_earlier_one() -> None:
    scheduler = _Scheduler()
    fired: list[str] = []
    done = threading.Event()
    scheduler.schedule(time.monotonic() + 0.1, lambda: fired.append("early"))
    scheduler.schedule(time.monotonic() + 0.3, lambda: (fired.append("late"), done.set()))
    assert done.wait(5)
    time.sleep(0.05)  # each callback runs on a thread of its own
    assert sorted(fired) == ["early", "late"]


def test_cancelled_deadlines_never_fire_and_do_not_pile_up() -> None:
    scheduler = _Scheduler()
    fired = threading.Event()
    for _ in range(1000):
        handle = scheduler.schedule(time.monotonic() + 0.2, fired.set)
        assert scheduler.cancel(handle)
    # Each new deadline drops the ended ones before it; the thread was never needed.
    assert len(scheduler._heap) == 1
    time.sleep(0.4)
    assert not fired.is_set()


def test_a_deadline_after_all_others_ended_still_fires() -> None:
    scheduler = _Scheduler()
    for _ in range(3):
        scheduler.cancel(scheduler.schedule(time.monotonic() + 0.05, lambda: None))
    time.sleep(0.2)  # the thread woke for the first, found nothing live, sleeps unbounded
    fired = threading.Event()
    scheduler.schedule(time.monotonic() + 0.05, fired.set)
    assert fired.wait(5)


def test_a_budget_is_settled_only_when_no_deadline_fired() -> None:
    cancels: list[int] = []
    quick = Budget(5.0, lambda: cancels.append(1))
    with quick.running():
        pass
    assert quick.settled
    assert not quick.fired

    slow = Budget(0.05, lambda: cancels.append(1))
    with slow.running():
        time.sleep(0.3)
    assert slow.fired
    assert not slow.settled
    assert cancels == [1]
