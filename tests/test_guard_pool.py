"""Plugin calls run on threads kept for reuse; one that hangs keeps its thread, never the next call."""

import contextvars
import logging
import threading
import time

import pytest

from portal import hookimpl
from portal.hooks import guardpool, pluginmanager
from portal.hooktypes import CarrierInfo

release = threading.Event()
seen = contextvars.ContextVar("seen_by_plugin", default="unset")
ARGS = {"tracking_number": "T-1", "settings": {}}


class Quick:
    calls = 0

    @hookimpl
    def carrier_info(self):
        return CarrierInfo("quick", "Quick Post")

    @hookimpl
    def carrier_tracking_url(self, carrier_code):
        Quick.calls += 1
        before = seen.get()
        seen.set("set by the plugin")  # must not leak into the next call on this thread
        return f"https://quick.example/{before}/{threading.current_thread().name}"


class Stuck:
    @hookimpl
    def carrier_info(self):
        return CarrierInfo("stuck", "Stuck Freight")

    @hookimpl
    def carrier_tracking_url(self, carrier_code):
        release.wait(10)  # far longer than the budget; the test lets it go at the end
        return "https://stuck.example/late"


@pytest.fixture
def pool(monkeypatch):
    """A pool of this test's own, at most three threads."""
    fresh = guardpool.GuardPool(limit=3)
    monkeypatch.setattr(guardpool, "pool", fresh)
    release.clear()
    yield fresh
    release.set()


@pytest.fixture
def plugins(app, register_plugin):  # the app's budget: 0.5 s in tests
    register_plugin(Quick(), "quick")
    register_plugin(Stuck(), "stuck")


def test_consecutive_calls_reuse_one_thread(pool, plugins):
    seen.set("the caller's value")
    before = threading.active_count()
    answers = [pluginmanager.call("quick", "carrier_tracking_url", carrier_code="quick", **ARGS)
               for _ in range(200)]
    assert all(a.ok for a in answers)
    assert pool.started == 1 and pool.size == 1 and pool.idle == 1
    assert threading.active_count() <= before + 1
    # Each call starts in an empty context, as a new thread did: the caller's variables
    # are not seen, and what a plugin sets is gone by its next call.
    assert {a.value for a in answers} == {
        "https://quick.example/unset/plugin:quick.carrier_tracking_url"}
    assert seen.get() == "the caller's value"


def test_a_hanging_plugin_keeps_its_thread_and_the_next_call_gets_a_fresh_one(
        pool, plugins, caplog):
    caplog.set_level(logging.ERROR, logger="portal.plugins")
    assert pluginmanager.call("quick", "carrier_tracking_url", carrier_code="quick", **ARGS).ok
    started = time.monotonic()
    hung = pluginmanager.call("stuck", "carrier_tracking_url", carrier_code="stuck", **ARGS)
    assert not hung.ok and "did not answer within" in hung.error
    assert time.monotonic() - started < 2  # the budget (0.5 s in tests), not the plugin's 10 s
    assert any("plugin stuck: carrier_tracking_url took longer than" in r.getMessage()
               and "its thread stays with it: 1 of at most 3" in r.getMessage()
               for r in caplog.records)
    # The quick plugin's next call does not wait behind the hung one.
    started = time.monotonic()
    assert pluginmanager.call("quick", "carrier_tracking_url", carrier_code="quick", **ARGS).ok
    assert time.monotonic() - started < 0.3
    assert pool.size == 2 and pool.started == 2

    # Once the hung plugin returns, its thread is idle again and taken by the next call.
    release.set()
    for _ in range(100):
        if pool.idle == 2:
            break
        time.sleep(0.02)
    assert pool.idle == 2
    for _ in range(20):
        assert pluginmanager.call("quick", "carrier_tracking_url", carrier_code="quick", **ARGS).ok
    assert pool.started == 2


def test_the_pool_stays_bounded_when_plugins_keep_hanging(pool, plugins, caplog):
    caplog.set_level(logging.ERROR, logger="portal.plugins")
    for _ in range(3):  # each hang keeps a thread (forgiven, so the plugin is called again)
        assert "did not answer" in pluginmanager.call(
            "stuck", "carrier_tracking_url", carrier_code="stuck", **ARGS).error
        pluginmanager.forgive_all()
    assert pool.size == 3 and pool.idle == 0
    before = threading.active_count()
    started = time.monotonic()
    full = pluginmanager.call("quick", "carrier_tracking_url", carrier_code="quick", **ARGS)
    assert time.monotonic() - started < 0.3  # told at once, not after the budget
    assert not full.ok and "all 3 plugin threads are busy" in full.error
    assert threading.active_count() == before and pool.size == 3
    assert any("plugin guard: all 3 threads are busy" in r.getMessage()
               and "quick.carrier_tracking_url was not called" in r.getMessage()
               for r in caplog.records)
    release.set()
    for _ in range(100):
        if pool.idle == 3:
            break
        time.sleep(0.02)
    assert pluginmanager.call("quick", "carrier_tracking_url", carrier_code="quick", **ARGS).ok
    assert pool.size == 3


def test_calls_from_many_threads_at_once_each_get_their_own_answer(pool, app, register_plugin):
    class Echo:
        @hookimpl
        def carrier_info(self):
            return CarrierInfo("echo", "Echo")

        @hookimpl
        def carrier_tracking_url(self, carrier_code):
            time.sleep(0.001)
            return carrier_code

    register_plugin(Echo(), "echo")
    app_plugins = pluginmanager.current()
    answers: dict[int, list] = {}

    def caller(k: int):
        token = pluginmanager.use(app_plugins)
        try:
            answers[k] = [pluginmanager.call("echo", "carrier_tracking_url",
                                             carrier_code=f"c{k}-{j}", **ARGS).value for j in range(30)]
        finally:
            pluginmanager.release(token)

    callers = [threading.Thread(target=caller, args=(k,)) for k in range(3)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    assert answers == {k: [f"c{k}-{j}" for j in range(30)] for k in range(3)}
    assert pool.size <= 3


def test_an_idle_thread_ends_after_a_while():
    small = guardpool.GuardPool(limit=2, idle_for=0.05)
    call = guardpool.Call(lambda: 42, (), {}, "t.t")
    small.submit(call)
    assert call.wait(2) and call.value == 42
    for _ in range(100):
        if small.size == 0:
            break
        time.sleep(0.02)
    assert small.size == 0 and small.idle == 0
    again = guardpool.Call(lambda: 43, (), {}, "t.t")
    small.submit(again)
    assert again.wait(2) and again.value == 43 and small.started == 2
