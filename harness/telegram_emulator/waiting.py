"""Waiting until a chat's bot messages satisfy a condition, blocking a sync test or awaiting in
an async one. A wait fails at once when the bot made a call the emulator could not serve, and
on timeout it lists every call the chat received.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Generator
from typing import Any

from harness.telegram_emulator.errors import JSONDict
from harness.telegram_emulator.store import Store, describe

Predicate = Callable[[list[JSONDict]], object] | str | None
Waiter = Generator[float, None, list[JSONDict]]
POLL_INTERVAL = 0.05


def _goal(predicate: Predicate, count: int | None) -> tuple[str, Callable[[list[JSONDict]], Any]]:
    """Return what a wait waits for, in words, and the check the messages must pass."""
    check: Callable[[list[JSONDict]], object]
    if isinstance(predicate, str):
        needle = predicate
        goal = f"a message containing {needle!r}"

        def check(messages: list[JSONDict]) -> object:
            return any(needle in (m["text"] or "") for m in messages)

    elif predicate is not None:
        goal, check = "the predicate", predicate
    else:
        goal, check = "a bot message", bool
    if count is not None:
        goal = f"{count} bot message(s)" + ("" if predicate is None else f" and {goal}")
    return goal, check


def _report(store: Store, chat_id: Any, after: int, timeout: float, goal: str) -> str:
    """Describe what a chat received, for the timeout's assertion message."""
    received = "\n  ".join(describe(c) for c in store.in_chat(chat_id, after, messages_only=False))
    return (
        f"timed out after {timeout}s waiting for {goal} in chat {chat_id} (after #{after}); "
        f"bot calls received:\n  {received or 'nothing'}"
    )


def until(
    store: Store, chat_id: Any, predicate: Predicate, count: int | None, after: int, timeout: float
) -> Waiter:
    """Yield sleep intervals until the chat's bot messages after ``after`` satisfy the condition."""
    goal, check = _goal(predicate, count)
    deadline = time.monotonic() + timeout
    while True:
        store.assert_served(after)
        messages = store.in_chat(chat_id, after)
        enough = count is None or len(messages) >= count
        if enough and ((predicate is None and count is not None) or check(messages)):
            return messages
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(_report(store, chat_id, after, timeout, goal))
        yield min(POLL_INTERVAL, remaining)


def block_on(store: Store, waiter: Waiter) -> list[JSONDict]:
    """Drive a waiter, blocking this thread (woken early by every recorded call)."""
    try:
        while True:
            delay = next(waiter)
            with store.cond:
                store.cond.wait(delay)
    except StopIteration as done:
        return done.value


async def wait_on(waiter: Waiter) -> list[JSONDict]:
    """Drive a waiter without blocking the running event loop."""
    try:
        while True:  # noqa: ASYNC110 - the store is fed by other threads
            await asyncio.sleep(next(waiter))
    except StopIteration as done:
        return done.value
