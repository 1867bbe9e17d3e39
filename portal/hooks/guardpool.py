"""Threads that run plugin calls within a time budget, kept for reuse.

Starting and joining a thread for every plugin call cost 110-130 µs on a quiet
machine (much more when the cores are busy); handing the call to a thread that
waits for work costs a fraction of that. The pool keeps such threads:

- a call goes to an idle thread, or to a fresh one when none is idle, so a call
  is never queued behind another (a hung one least of all);
- a thread whose plugin overran keeps running it (Python cannot stop a thread):
  it is simply not idle, and comes back to the pool if the plugin ever returns;
- the pool is bounded (``limit`` threads): when every thread is busy the call is
  not made and the caller is told so at once (logged), instead of piling up
  threads behind plugins that hang;
- a thread idle for ``idle_for`` seconds ends, so a burst does not keep threads
  for ever.

Each call runs in a fresh, empty :class:`contextvars.Context`, as a new thread's
first function did before the pool: a plugin sees no app context of the caller,
and nothing a plugin sets in a context variable leaks into the next call the same
thread makes.
"""

import contextvars
import logging
import os
import queue
import threading

log = logging.getLogger("portal.plugins")

LIMIT = 32
IDLE_FOR = 60.0


class Call:
    """One plugin call handed to the pool: its answer or exception once ``wait`` is true."""

    __slots__ = ("function", "args", "kwargs", "name", "value", "error", "_done")

    def __init__(self, function, args, kwargs, name: str):
        self.function, self.args, self.kwargs, self.name = function, args, kwargs, name
        self.value = self.error = None
        # A plain lock held until the call ends: the cheapest thing to wait on with a timeout.
        self._done = threading.Lock()
        self._done.acquire()

    def run(self) -> None:
        try:
            self.value = contextvars.Context().run(self.function, *self.args, **self.kwargs)
        except Exception as exc:
            self.error = exc
        finally:
            self._done.release()

    def wait(self, timeout: float) -> bool:
        """Whether the call ended within ``timeout`` seconds."""
        return self._done.acquire(timeout=max(timeout, 0))


class PoolFull(RuntimeError):
    """Every thread of the pool is busy: the call was not made."""


class GuardPool:
    """A bounded set of threads for plugin calls (see the module's docstring)."""

    def __init__(self, limit: int = LIMIT, idle_for: float = IDLE_FOR):
        self.limit, self.idle_for = limit, idle_for
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        # Invariant: idle == threads waiting for work - calls queued for them.
        self._tasks: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: set[threading.Thread] = set()
        self._idle = 0
        self._started = 0

    @property
    def size(self) -> int:
        """Threads alive in the pool (busy or idle)."""
        return len(self._threads)

    @property
    def idle(self) -> int:
        return self._idle

    @property
    def started(self) -> int:
        """Threads the pool has started since it was made (reuse keeps this low)."""
        return self._started

    def submit(self, call: Call) -> None:
        """Hand ``call`` to an idle thread, or to a new one; :class:`PoolFull` when all
        ``limit`` threads are busy (plugins that hang keep theirs)."""
        with self._lock:
            if self._idle:
                self._idle -= 1
            elif len(self._threads) < self.limit:
                self._started += 1
                worker = threading.Thread(target=self._work, name="plugin-guard", daemon=True)
                self._threads.add(worker)
                worker.start()
            else:
                busy = len(self._threads)
                log.error("plugin guard: all %d threads are busy (plugins that did not answer "
                          "keep theirs); %s was not called", busy, call.name)
                raise PoolFull(f"not called: all {busy} plugin threads are busy")
        self._tasks.put(call)

    def _work(self) -> None:
        me = threading.current_thread()
        while True:
            try:
                call = self._tasks.get(timeout=self.idle_for)
            except queue.Empty:
                with self._lock:
                    if self._idle:  # more threads wait than calls are queued: this one may go
                        self._idle -= 1
                        self._threads.discard(me)
                        return
                continue  # a call was handed to this thread just now: take it
            me.name = f"plugin:{call.name}"
            try:
                call.run()
            except BaseException:  # SystemExit in a plugin ended its thread before: not this one
                pass
            me.name = "plugin-guard"
            call = None  # let go of the arguments and the answer
            with self._lock:
                self._idle += 1

    def forget_threads(self) -> None:
        """After a fork: the parent's threads do not exist in the child."""
        self._lock = threading.Lock()
        self._reset()


pool = GuardPool()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=pool.forget_threads)
