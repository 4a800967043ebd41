"""The context python-telegram-bot hands each handler: the turn of the stored update it handles.

The channel opens a turn for each stored update it runs through the application; the
application's bot_data (`Turns`) holds it meanwhile, and `TurnContext.from_update`, which builds
the context of the handlers and of the error handler alike, finds it there. The replies the
handlers add to the turn are stored in the transaction that marks the update done.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from outbox import NewJob


@dataclass
class Turn:
    """One stored update being processed, and the replies it has produced so far."""

    redelivered: bool  # it may have been processed before (the bot was interrupted)
    replies: list[NewJob] = field(default_factory=list)


class Turns:
    """The turns of the updates an application is processing (its bot_data)."""

    def __init__(self) -> None:
        """Start with no turn open."""
        self._open: dict[int, Turn] = {}

    @contextmanager
    def open(self, update: Update, redelivered: bool) -> Iterator[Turn]:
        """Hold an update's turn while the application processes it."""
        # By the object, not its update_id: a retry of a slow update may run beside it.
        self._open[id(update)] = turn = Turn(redelivered)
        try:
            yield turn
        finally:
            del self._open[id(update)]

    def of(self, update: object) -> Turn:
        """The turn of an update being processed."""
        return self._open[id(update)]


class TurnContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], Turns]):
    """A handler's context, carrying the turn of the update it handles."""

    turn: Turn

    @classmethod
    def from_update(
        cls, update: object, application: Application[Any, Any, Any, Any, Turns, Any]
    ) -> TurnContext:
        """Build the context of an update, with its turn."""
        context = super().from_update(update, application)
        context.turn = application.bot_data.of(update)
        return context


CONTEXT_TYPES = ContextTypes(context=TurnContext, bot_data=Turns)
