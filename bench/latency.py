"""Per-turn latency and throughput of the full stack (through the bot) against bare Rasa REST.

Starts its own stack (trained model, Rasa, actions, reception, bot), then plays the same
patient journey against two entry points, first one patient at a time, then many at once:

- full stack: the bot's web chat endpoint -> Rasa -> action server (-> reception at handoff);
- Telegram: a Bot API emulator -> the bot's long polling -> its outbox (the update, then the
  replies) -> Rasa -> action server, until every reply of the turn has reached the emulator;
- bare Rasa: Rasa's REST channel (the one the bot uses) on the same model and action server.

Run with `make bench` (options: `python -m bench.latency --help`).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot.rasa_client import WEBHOOK_PATH
from conversation_id import ConversationId
from harness.stack import Stack
from harness.telegram_emulator import TelegramEmulator

TELEGRAM_TOKEN = "818181:bench-token"

HAVE_IT = '/inform_record_status{"record_status":"have"}'
JOURNEY = (
    "hello",
    "/affirm",
    "/start_request",
    "I have breast cancer",
    '/inform_care_stage{"care_stage":"in_treatment"}',
    '/inform_residence{"residence":"belgium"}',
    *(HAVE_IT,) * 4,
    "Marie Dupont",
    "0470 12 34 56",
    "/skip",
    "weekday mornings",
    "/affirm",
)

Send = Callable[[aiohttp.ClientSession, str, str], Awaitable[None]]


@dataclass
class Result:
    """Latencies of every turn, and the wall time of the whole run."""

    latencies: list[float]
    wall_seconds: float

    @property
    def p50(self) -> float:
        """Median turn latency in milliseconds."""
        return statistics.median(self.latencies) * 1000

    @property
    def p95(self) -> float:
        """95th-percentile turn latency in milliseconds."""
        return statistics.quantiles(self.latencies, n=20)[-1] * 1000

    @property
    def throughput(self) -> float:
        """Turns per second over the run."""
        return len(self.latencies) / self.wall_seconds


def via_bot(url: str) -> Send:
    """Send a turn through the bot's web chat endpoint."""

    async def send(session: aiohttp.ClientSession, conversation: str, text: str) -> None:
        body = {"session_id": conversation, "text": text}
        async with session.post(f"{url}/api/messages", json=body) as response:
            response.raise_for_status()
            assert (await response.json())["replies"]

    return send


def via_rasa(url: str) -> Send:
    """Send a turn straight to Rasa's REST channel."""

    async def send(session: aiohttp.ClientSession, conversation: str, text: str) -> None:
        body = {"sender": str(ConversationId.webchat(conversation)), "message": text}
        async with session.post(f"{url}{WEBHOOK_PATH}", json=body) as response:
            response.raise_for_status()
            assert await response.json()

    return send


async def replies_per_turn(url: str) -> list[int]:
    """How many messages Rasa answers each turn of the journey with."""
    counts = []
    conversation = uuid.uuid4().hex
    async with aiohttp.ClientSession() as session:
        for text in JOURNEY:
            body = {"sender": str(ConversationId.webchat(conversation)), "message": text}
            async with session.post(f"{url}{WEBHOOK_PATH}", json=body) as response:
                counts.append(len(await response.json()))
    return counts


def via_telegram(telegram: TelegramEmulator, expected: list[int]) -> Send:
    """Send a turn as a Telegram update (typed text, or a tap on the button that carries the
    payload) and wait until all of the turn's replies have reached the emulator.
    """
    turns: dict[str, int] = {}

    async def send(session: aiohttp.ClientSession, conversation: str, text: str) -> None:
        chat = 10_000_000 + int(conversation[:7], 16)
        turn = turns.get(conversation, 0)
        turns[conversation] = turn + 1
        mark = telegram.mark()
        if text.startswith("/"):
            telegram.tap_button(chat, button_for(telegram, chat, text))
        else:
            telegram.send_text(chat, text)
        await telegram.async_wait_for(None, chat, count=expected[turn], after=mark, timeout=120)

    return send


def button_for(telegram: TelegramEmulator, chat: int, payload: str) -> str:
    """The callback data of the newest button in a chat that carries a payload."""
    for message in reversed(telegram.sent(chat)):
        for _, data in telegram.buttons(message):
            if data and data.split("|")[0] == payload:
                return data
    raise AssertionError(f"no button for {payload} in chat {chat}")


async def patient(session: aiohttp.ClientSession, send: Send, latencies: list[float]) -> None:
    """Play one patient's journey, timing each turn."""
    conversation = uuid.uuid4().hex
    for text in JOURNEY:
        started = time.perf_counter()
        await send(session, conversation, text)
        latencies.append(time.perf_counter() - started)


async def run(send: Send, patients: int, concurrency: int) -> Result:
    """Play `patients` journeys, at most `concurrency` at a time."""
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=120)

    async def one(session: aiohttp.ClientSession) -> None:
        async with gate:
            await patient(session, send, latencies)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        await patient(session, send, [])  # warm-up, not counted
        started = time.perf_counter()
        await asyncio.gather(*(one(session) for _ in range(patients)))
        return Result(latencies, time.perf_counter() - started)


async def measure(
    stack: Stack, telegram: TelegramEmulator, patients: int, concurrency: int
) -> None:
    """Measure every entry point, one after the other, and print the figures and ratios."""
    expected = await replies_per_turn(stack.url("rasa"))
    targets = {
        "full stack": via_bot(stack.url("bot")),
        "Telegram": via_telegram(telegram, expected),
        "bare Rasa": via_rasa(stack.url("rasa")),
    }
    print(f"journey of {len(JOURNEY)} turns; {patients} patients per scenario\n")
    print(f"{'scenario':<34}{'p50 ms':>9}{'p95 ms':>9}{'turns/s':>9}")
    for label, workers in (("1 patient at a time", 1), (f"{concurrency} at once", concurrency)):
        results = {name: await run(send, patients, workers) for name, send in targets.items()}
        for name, result in results.items():
            print(
                f"{name + ', ' + label:<34}{result.p50:>9.1f}{result.p95:>9.1f}"
                f"{result.throughput:>9.1f}"
            )
        bare = results["bare Rasa"]
        for name, short in (("full stack", "full"), ("Telegram", "telegram")):
            other = results[name]
            print(
                f"{'ratio ' + short + '/bare, ' + label:<34}{other.p50 / bare.p50:>9.2f}"
                f"{other.p95 / bare.p95:>9.2f}{other.throughput / bare.throughput:>9.2f}"
            )
        print()


def main() -> None:
    """Start a stack, measure, stop it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=20, help="journeys per scenario")
    parser.add_argument("--concurrency", type=int, default=10, help="patients at once")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as workdir,
        TelegramEmulator(token=TELEGRAM_TOKEN) as telegram,
    ):
        stack = Stack(
            workdir=Path(workdir),
            telegram_token=TELEGRAM_TOKEN,
            telegram_base_url=telegram.base_url,
            extra_env={"CHAT_MESSAGES_PER_MINUTE": "600"},
        )
        stack.start()
        try:
            asyncio.run(measure(stack, telegram, args.patients, args.concurrency))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
