"""The query threads: results, errors, context, concurrency, cancellation and idle exit."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import anyio
import pytest

from gnomon.api.offload import ThreadLane, _Call

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("rid", default=None)


def test_a_result_comes_back_from_another_thread() -> None:
    lane = ThreadLane()

    async def scenario() -> tuple[int, int]:
        return await lane.run(lambda: (threading.get_ident(), 6 * 7))

    ident, value = asyncio.run(scenario())
    assert value == 42
    assert ident != threading.get_ident()


def test_an_exception_is_raised_in_the_caller_and_the_thread_lives_on() -> None:
    lane = ThreadLane(max_threads=1)

    def boom() -> None:
        raise KeyError("missing")

    async def scenario() -> str:
        with pytest.raises(KeyError, match="missing"):
            await lane.run(boom)
        return await lane.run(lambda: "still serving")

    assert asyncio.run(scenario()) == "still serving"
    assert lane.threads == 1


def test_the_call_runs_in_a_copy_of_the_callers_context() -> None:
    lane = ThreadLane()

    def read_and_change() -> str | None:
        seen = request_id.get()
        request_id.set("changed in the thread")
        return seen

    async def scenario() -> tuple[str | None, str | None]:
        request_id.set("r-1")
        seen = await lane.run(read_and_change)
        return seen, request_id.get()

    assert asyncio.run(scenario()) == ("r-1", "r-1")


def test_calls_run_at_once_up_to_the_limit_and_then_wait() -> None:
    lane = ThreadLane(max_threads=2)
    release = threading.Event()
    running: list[int] = []
    lock = threading.Lock()

    def hold(i: int) -> int:
        with lock:
            running.append(i)
        release.wait(5)
        return i

    async def scenario() -> list[int]:
        tasks = [asyncio.create_task(lane.run(lambda i=i: hold(i))) for i in range(3)]
        deadline = time.monotonic() + 5
        while len(running) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        at_once = len(running)  # the third waits in the queue
        release.set()
        results = await asyncio.gather(*tasks)
        assert at_once == 2
        return results

    assert asyncio.run(scenario()) == [0, 1, 2]
    assert lane.threads == 2
    assert len(running) == 3


def test_a_cancelled_caller_waits_for_the_call_to_end() -> None:
    lane = ThreadLane()
    started = threading.Event()
    release = threading.Event()
    ended: list[float] = []

    def slow() -> str:
        started.set()
        release.wait(5)
        ended.append(time.monotonic())
        return "done"

    async def scenario() -> float:
        async def caller() -> None:
            await lane.run(slow)

        task = asyncio.create_task(caller())
        while not started.is_set():
            await asyncio.sleep(0.005)
        task.cancel()
        await asyncio.sleep(0.1)
        assert not task.done()  # still waiting for the thread, not abandoned
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic()

    cancelled_at = asyncio.run(scenario())
    assert ended
    assert ended[0] <= cancelled_at


def test_an_anyio_cancel_scope_waits_for_the_call_too() -> None:
    lane = ThreadLane()
    release = threading.Event()
    finished: list[str] = []

    def slow() -> None:
        release.wait(5)
        finished.append("call")

    async def scenario() -> None:
        with anyio.move_on_after(0.05):
            threading.Timer(0.3, release.set).start()
            await lane.run(slow)
        finished.append("scope")

    anyio.run(scenario)
    assert finished == ["call", "scope"]


def test_idle_threads_end_and_new_calls_start_new_ones() -> None:
    lane = ThreadLane(max_threads=4, idle_exit_s=0.05)

    async def scenario() -> list[int]:
        first = await asyncio.gather(*(lane.run(lambda: time.sleep(0.02)) for _ in range(3)))
        assert lane.threads >= 2
        deadline = time.monotonic() + 5
        while lane.threads and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert lane.threads == 0
        assert first == [None, None, None]
        # Calls arriving around the moment threads give up are never left in the queue.
        results = []
        for i in range(40):
            results.append(await lane.run(lambda i=i: i))
            await asyncio.sleep(0.045 + (i % 3) * 0.005)
        return results

    assert asyncio.run(scenario()) == list(range(40))


def test_a_result_for_a_closed_loop_is_dropped_quietly() -> None:
    loop = asyncio.new_event_loop()
    call: _Call[int] = _Call(lambda: 1, loop)
    loop.close()
    call.run()  # posting to the closed loop must not raise in the worker thread
    assert not call.delivered
