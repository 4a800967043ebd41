"""The editors' pages: the content preview, and the questions the assistant did not understand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from markupsafe import Markup

from contentlib import ContentStore, FaqTopic, questions
from contentlib.faq import FrontMatterError
from contentlib.markdown import to_web_html
from contentlib.variables import variables_of

from . import gaps, wording
from .appkeys import CONTENT_KEY, RASA_KEY, SESSIONMAKER_KEY
from .content import ExampleRefused
from .models import GapIntent
from .pages import render
from .rasa_client import Guess, RasaUnavailable
from .staff_auth import Staff, checked_form, require_content_work, require_staff

PREVIEW_PATH = "/content"
GAPS_PATH = "/content/gaps"

routes = web.RouteTableDef()


@dataclass(frozen=True, slots=True)
class Shown:
    """A text as the web chat shows it, or why it cannot be shown."""

    html: Markup
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Tried:
    """What the live model made of a question an editor typed, ready to show."""

    pick: str
    pick_confidence: str
    runner_up: str
    runner_up_confidence: str


@routes.get(PREVIEW_PATH, name="content_preview")
async def preview_page(request: web.Request) -> web.StreamResponse:
    """Show every topic and message as patients see them, and try a question on the model."""
    staff = await _editor(request)
    store = request.app[CONTENT_KEY].store
    language = store.language_or_default(request.query.get("lang"))
    question = request.query.get("q", "").strip()[: questions.MAX_QUESTION_LENGTH]
    tried, rasa_error, model = await _ask_rasa(request, store, language, question)
    return render(
        request,
        "content.html",
        staff=staff,
        csrf_token=staff.csrf_token,
        language=language,
        languages=sorted(store.languages),
        question=question,
        tried=tried,
        rasa_error=rasa_error,
        model=model,
        problems=await request.app[CONTENT_KEY].problems(),
        topics=[_topic_row(store, topic, language) for topic in store.topics(language).values()],
        messages=[_message_row(store, key, language) for key in store.messages(language)],
    )


@routes.get(GAPS_PATH, name="content_gaps")
async def gaps_page(request: web.Request) -> web.StreamResponse:
    """List the questions not understood, grouped and counted, to turn into examples."""
    staff = await _editor(request)
    done = wording.table("gaps_done").get(request.query.get("done", ""))
    return await _gaps_page(request, staff, notice=done)


@routes.post(f"{GAPS_PATH}/examples")
async def add_to_topic(request: web.Request) -> web.StreamResponse:
    """Add a question to a topic's example questions, then mark it handled."""
    staff = await _editor(request)
    form = await checked_form(request, staff)
    key, language = form.get("key", ""), form.get("language", "")
    store = request.app[CONTENT_KEY].store
    topic = store.topics(language).get(form.get("topic", ""))
    question = questions.screen(form.get("question", ""))
    if topic is None:
        return await _gaps_page(request, staff, error=wording.text("gap_choose_topic"))
    if question is None:
        return await _gaps_page(request, staff, error=wording.text("gap_write_question"))
    try:
        await request.app[CONTENT_KEY].add_example(topic.path, question)
    except ExampleRefused as refused:
        return await _gaps_page(request, staff, error=wording.describe(refused), status=409)
    except FrontMatterError as exc:
        error = wording.text("gap_bad_topic_file", problem=str(exc))
        return await _gaps_page(request, staff, error=error, status=409)
    await _handle(request, staff, key, language, topic.id)
    raise web.HTTPSeeOther(f"{GAPS_PATH}?{urlencode({'done': 'added'})}#notice")


@routes.post(f"{GAPS_PATH}/dismiss")
async def dismiss(request: web.Request) -> web.StreamResponse:
    """Mark a question handled without adding it anywhere."""
    staff = await _editor(request)
    form = await checked_form(request, staff)
    await _handle(request, staff, form.get("key", ""), form.get("language", ""), None)
    raise web.HTTPSeeOther(f"{GAPS_PATH}?done=dismissed#notice")


async def _editor(request: web.Request) -> Staff:
    """Return the signed-in editor or admin, or refuse."""
    staff = await require_staff(request)
    require_content_work(request, staff)
    return staff


async def _handle(
    request: web.Request, staff: Staff, key: str, language: str, topic: str | None
) -> None:
    """Mark every open asking of a question handled."""
    async with request.app[SESSIONMAKER_KEY]() as session:
        await gaps.mark_handled(session, key, language, staff.user.email, topic)


async def _gaps_page(
    request: web.Request,
    staff: Staff,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    """Render the gap report."""
    async with request.app[SESSIONMAKER_KEY]() as session:
        groups = await gaps.open_gaps(session)
    store = request.app[CONTENT_KEY].store
    topics = {
        language: sorted(store.topics(language).values(), key=lambda topic: topic.title)
        for language in {group.language for group in groups}
    }
    return render(
        request,
        "gaps.html",
        status=status,
        staff=staff,
        csrf_token=staff.csrf_token,
        groups=groups,
        topics=topics,
        reasons=wording.table("gap_reasons"),
        notice=notice,
        error=error,
    )


async def _ask_rasa(
    request: web.Request, store: ContentStore, language: str, question: str
) -> tuple[Tried | None, str | None, str | None]:
    """Which model Rasa runs, and what it makes of the question; or why it cannot say."""
    rasa = request.app[RASA_KEY]
    try:
        model = await rasa.running_model()
        if not question:
            return None, None, model
        understanding = await rasa.understand(question)
    except RasaUnavailable as exc:
        return None, wording.text("rasa_unavailable", reason=wording.describe(exc)), None
    runner_up = understanding.runner_up or Guess("", 0.0)
    tried = Tried(
        pick=_intent_label(store, language, understanding.pick.intent),
        pick_confidence=f"{understanding.pick.confidence:.0%}",
        runner_up=_intent_label(store, language, runner_up.intent) if runner_up.intent else "—",
        runner_up_confidence=f"{runner_up.confidence:.0%}" if runner_up.intent else "—",
    )
    return tried, None, model


def _intent_label(store: ContentStore, language: str, intent: str) -> str:
    """Name an intent for editors: a topic's title, or what the assistant would do."""
    if intent == GapIntent.NOT_UNDERSTOOD.value:
        return wording.text("intent_not_understood")
    topic = store.topics(language).get(intent.removeprefix("faq_"))
    if intent.startswith("faq_") and topic is not None:
        return f"{topic.title} ({intent})"
    return intent


def _topic_row(store: ContentStore, topic: FaqTopic, language: str) -> dict[str, Any]:
    """What the preview shows of one topic."""
    return {
        "id": topic.id,
        "intent": topic.intent,
        "title": topic.title,
        "examples": len(topic.examples),
        "review": topic.review.isoformat() if topic.review else "none",
        "review_passed": bool(topic.review and topic.review < dt.date.today()),
        "answer": _web_html(lambda: store.answer(topic.id, language)),
    }


def _message_row(store: ContentStore, key: str, language: str) -> dict[str, Any]:
    """What the preview shows of one message, with example values for its variables."""
    return {
        "key": key,
        "variables": sorted(variables_of(key)),
        "html": _web_html(lambda: store.text(key, language, **variables_of(key))),
    }


def _web_html(text: Any) -> Shown:
    """Render a text for the web chat, or say why it cannot be shown."""
    try:
        return Shown(Markup(to_web_html(text())))
    except Exception as exc:
        error = wording.text("content_cannot_show", error=exc.__class__.__name__, detail=str(exc))
        return Shown(Markup(), error)
