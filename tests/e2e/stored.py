"""What the running stack keeps about a chat: reception's tickets, tracker events, outbox jobs."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import httpx

from conversation_id import ConversationId
from harness.stack import Stack


def tickets_of(reception_api: httpx.Client, chat_id: int) -> list[dict]:
    """Reception's tickets that came from one Telegram chat, newest first."""
    page = reception_api.get(
        "/api/v1/tickets",
        params={"channel": "telegram", "channel_address": str(chat_id), "limit": 100},
    )
    page.raise_for_status()
    return list(page.json()["items"])


def tracker_rows(stack: Stack, chat_id: int) -> list[dict]:
    """Every event the tracker store holds for a chat, as stored."""
    with sqlite3.connect(stack.workdir / "tracker.db") as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id",
            (str(ConversationId.telegram(chat_id)),),
        ).fetchall()
    return [json.loads(data) for (data,) in rows]


# The fields of a tracker event that can hold what a patient said: texts, parse results (intent,
# entities), slot and form values, and metadata. Ids and timestamps are left out: they are made of
# digits that a phone number could match by chance.
WORD_FIELDS = ("text", "parse_data", "value", "metadata", "entities", "name")


def stored_words(rows: list[dict]) -> list[str]:
    """Every string the tracker rows keep in a field that could hold a patient's words."""
    found: list[str] = []

    def strings(value: object) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                strings(item)
        elif isinstance(value, list):
            for item in value:
                strings(item)

    for row in rows:
        for key in WORD_FIELDS:
            strings(row.get(key))
    return found


def outbox_rows(database: Path, lane: str | None = None) -> list[dict]:
    """The outbox jobs a process keeps (all, or one lane's), with their payloads and results."""
    with sqlite3.connect(database) as db:
        db.row_factory = sqlite3.Row
        query = "SELECT queue, lane, payload, result, done_at FROM outbox_jobs"
        rows = db.execute(query + (" WHERE lane = ?" if lane else ""), (lane,) if lane else ())
        return [dict(row) for row in rows]
