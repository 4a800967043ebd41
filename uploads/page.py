"""The patient's upload page: `GET /records/{token}`, in the patient's language.

Opening the page only looks the link up (Telegram's link-preview crawler opens it too, so it
must not use anything up). A link reception does not know gets a 404 page, an expired or
revoked one a 410 page, both kind and in the browser's language; the page itself speaks the
language reception keeps for the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from contentlib import ContentStore

from .appkeys import CONTENT_KEY, LINKS_KEY, SETTINGS_KEY, TEMPLATES_KEY
from .labels import LABELS, OTHER, label_names
from .reception_client import LinkGone, LinkUnknown, ReceptionUnavailable, UploadLink

TEMPLATES = Path(__file__).parent / "templates"
PAGE_TEXTS = (
    "title",
    "intro",
    "reference",
    "needs_script",
    "choose_files",
    "choose_folder",
    "folder_hint",
    "label_question",
    "label_unsure",
    "send",
    "remove",
    "to_send",
    "received",
    "nothing_received",
    "files_count",
    "limits",
    "resume_hint",
    "skipped_programs",
)
# What the page's script says about each file, by state (uploads.state.<name>).
STATE_TEXTS = (
    "waiting",
    "sending",
    "checking",
    "received",
    "paused",
    "failed",
    "too_large",
    "request_full",
    "unsupported_type",
    "unsafe_archive",
    "damaged_file",
    "infected",
    "link_gone",
)
# The kinds of problem page: uploads.<kind>.title and uploads.<kind>.text.
PROBLEMS = {404: "unknown", 410: "expired", 503: "unavailable"}
MB = 1_000_000


def template_environment() -> jinja2.Environment:
    """The page templates: autoescaped, strict about undefined names."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


async def page(request: web.Request) -> web.Response:
    """Show the upload page of a live link, or say kindly why the link does not work."""
    token = request.match_info["token"]
    try:
        link = await request.app[LINKS_KEY].look_up(token)
    except LinkUnknown:
        return problem_page(request, 404)
    except LinkGone:
        return problem_page(request, 410)
    except ReceptionUnavailable:
        return problem_page(request, 503)
    content = request.app[CONTENT_KEY]
    language = content.language_or_default(link.language)
    texts = page_texts(content, language)
    names = label_names(content, language)
    page_data = {
        "language": language,
        "endpoint": str(request.app.router["files"].url_for(token=token)),
        "max_file_bytes": request.app[SETTINGS_KEY].max_file_bytes,
        "labels": [{"value": "", "name": texts["label_unsure"]}]
        + [{"value": key, "name": names[key]} for key in LABELS],
        "texts": texts,
        "states": state_texts(content, language),
    }
    html = (
        request.app[TEMPLATES_KEY]
        .get_template("records.html")
        .render(
            language=language,
            texts=texts,
            reference=link.reference,
            received=received(link, names, language),
            states=page_data["states"],
            page_data=page_data,
        )
    )
    return web.Response(text=html, content_type="text/html")


def problem_page(request: web.Request, status: int) -> web.Response:
    """A short page, in the browser's language, saying why the link cannot be used."""
    content = request.app[CONTENT_KEY]
    language = content.language_or_default(request.headers.get("Accept-Language", "")[:2])
    kind = PROBLEMS[status]
    html = (
        request.app[TEMPLATES_KEY]
        .get_template("problem.html")
        .render(
            language=language,
            title=str(content.text(f"uploads.{kind}.title", language)),
            text=str(content.text(f"uploads.{kind}.text", language)),
        )
    )
    return web.Response(status=status, text=html, content_type="text/html")


def page_texts(content: ContentStore, language: str) -> dict[str, str]:
    """The page's sentences (uploads.page.*) in one language."""
    return {key: str(content.text(f"uploads.page.{key}", language)) for key in PAGE_TEXTS}


def state_texts(content: ContentStore, language: str) -> dict[str, str]:
    """What the page says about a file in each state (uploads.state.*)."""
    return {key: str(content.text(f"uploads.state.{key}", language)) for key in STATE_TEXTS}


def received(link: UploadLink, names: Mapping[str, str], language: str) -> list[dict[str, Any]]:
    """The request's files as the page lists them: kind, size, day, and whether set aside."""
    return [
        {
            "name": names.get(str(item.get("label")), names[OTHER]),
            "size": megabytes(int(item.get("size") or 0), language),
            "day": str(item.get("received_at") or "")[:10],
            "infected": item.get("scan") == "infected",
        }
        for item in link.attachments
    ]


def megabytes(size: int, language: str) -> str:
    """A size in megabytes as the language writes it: 1.5 MB, or 1,5 MB in French and Dutch."""
    shown = f"{max(size / MB, 0.1):.1f}"
    return f"{shown.replace('.', ',') if language in ('fr', 'nl') else shown} MB"
