"""Messages from reception to a patient: delivered through the bot, then kept in the transcript."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from . import queries
from .bot_client import BotClient
from .service_levels import ServiceLevels


async def message_patient(
    session: AsyncSession,
    bot: BotClient,
    reference: str,
    text: str,
    actor: queries.Actor,
    levels: ServiceLevels,
) -> dict[str, Any]:
    """Deliver text to the patient of a ticket; record it only once the bot has taken it."""
    ticket = await queries.get_ticket(session, reference)
    if ticket.erased_at is not None:
        raise queries.TicketErased()
    channel, address, language = ticket.channel, ticket.channel_address, ticket.language
    await session.commit()  # end the read transaction before waiting on the network
    await bot.deliver(
        channel=channel, address=address, text=text, reference=reference, language=language
    )
    return await queries.add_staff_message(session, reference, text, actor, levels)
