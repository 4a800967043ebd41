"""Wait for a state to hold, instead of sleeping and hoping."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable


async def until(
    condition: Callable[[], object | Awaitable[object]],
    timeout: float = 15.0,  # noqa: ASYNC109
    interval: float = 0.02,
) -> None:
    """Wait until a condition holds; the condition may be a plain or an async callable."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        assert loop.time() < deadline, f"not true within {timeout} s"
        await asyncio.sleep(interval)
