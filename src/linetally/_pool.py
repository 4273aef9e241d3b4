"""A bounded pool of daemon threads whose results land on an asyncio event loop.

Why not ``asyncio.to_thread``: the default executor's threads are joined at
interpreter exit and by ``asyncio.run``, so one read stuck in the kernel (a
FIFO with no writer, a hung network mount) would keep the process alive after
Ctrl-C. These threads are daemons; a read that was given up on is abandoned,
and the pool starts a replacement so the bound on work in flight still holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["ThreadPool"]

T = TypeVar("T")

_Item = tuple["asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]


class ThreadPool:
    """Run blocking calls on at most ``size`` busy daemon threads."""

    def __init__(self, size: int, name: str = "linetally") -> None:
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._size = max(1, size)
        self._name = name
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run ``fn(*args)`` on a pool thread; await the returned future for its result."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._queue.put((fut, fn, args))
        # Callers keep at most ``size`` calls in flight, so a thread per call
        # up to the bound is all the scheduling needed.
        with self._lock:
            if len(self._threads) < self._size:
                self._start()
        return fut

    def abandon(self) -> None:
        """A thread is busy with work nobody waits for any more: make room for one more."""
        with self._lock:
            self._size += 1

    def shutdown(self) -> None:
        """Let every idle thread end; busy ones end when their call returns."""
        with self._lock:
            threads, self._threads = self._threads, []
        for _ in threads:
            self._queue.put(None)

    def _start(self) -> None:
        t = threading.Thread(target=self._work, name=f"{self._name}-{len(self._threads)}")
        t.daemon = True
        self._threads.append(t)
        t.start()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fut, fn, args = item
            loop = fut.get_loop()
            if fut.cancelled():
                result, error = None, None
            else:
                try:
                    result, error = fn(*args), None
                except BaseException as exc:  # handed to the awaiting task, whatever it is
                    result, error = None, exc
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits
                loop.call_soon_threadsafe(_settle, fut, result, error)
            del fut, fn, args, item, result, error


def _settle(fut: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if fut.done():
        return
    if error is not None:
        fut.set_exception(error)
    else:
        fut.set_result(result)
