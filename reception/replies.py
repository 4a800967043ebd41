"""Canned replies: the editors' short messages that staff insert with /code, in the patient's
language.

They live in content/<lang>/replies.yml as replies.<code>.title and replies.<code>.text, and
`make content-check` checks them like every message: the same codes in every language, and only
the variables below. Reception fills them in from the ticket (the patient's name, the request's
reference and the records still missing) in the patient's language, and beside it, for staff,
in the language of the signed-in account.
"""

from __future__ import annotations

from dataclasses import dataclass

from contentlib import ContentStore
from contentlib.store import DEFAULT_LANGUAGE, Markdown

from .models import MISSING_RECORDS, Ticket

GROUP = "replies"  # the keys' first part; the calls below spell it out for the content tests
# The language of the translation when none is asked for: the accounts' default.
STAFF_LANGUAGE = DEFAULT_LANGUAGE


@dataclass(frozen=True)
class CannedReply:
    """One reply, filled in for one ticket."""

    code: str
    title: str
    text: str  # in the patient's language
    translation: str | None  # the same in the staff's language, when that is another one


def codes(content: ContentStore) -> list[str]:
    """The codes of the replies, in the order the editors wrote them."""
    prefix, suffix = f"{GROUP}.", ".text"
    return [
        key.removeprefix(prefix).removesuffix(suffix)
        for key in content.messages(DEFAULT_LANGUAGE)
        if key.startswith(prefix) and key.endswith(suffix)
    ]


def replies_for(
    content: ContentStore, ticket: Ticket, staff_language: str = STAFF_LANGUAGE
) -> list[CannedReply]:
    """Every reply, filled in for a ticket's patient, with its translation for staff."""
    patient = content.language_or_default(ticket.language)
    staff_language = content.language_or_default(staff_language)
    return [
        CannedReply(
            code=code,
            title=str(content.text(f"replies.{code}.title", staff_language)),
            text=fill(content, code, patient, ticket),
            translation=None
            if patient == staff_language
            else fill(content, code, staff_language, ticket),
        )
        for code in codes(content)
    ]


def fill(content: ContentStore, code: str, language: str, ticket: Ticket) -> str:
    """One reply in one language, with the ticket's name, reference and missing records."""
    missing = [
        str(content.text(f"records.{item}.name", language))
        for item, state in ticket.records.items()
        if state in MISSING_RECORDS
    ]
    return str(
        content.text(
            f"replies.{code}.text",
            language,
            name=ticket.contact_name or "",
            reference=ticket.reference,
            missing_records=Markdown("\n".join(f"- {name}" for name in missing)),
        )
    )
