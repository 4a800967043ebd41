"""The ticket REST API under /api/v1/, with its auth and error middlewares."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.typedefs import Middleware
from pydantic import BaseModel, ValidationError

from . import attachments, erasure, follow_ups, funnel, gaps, queries, record_files, wording
from .appkeys import (
    CONTENT_KEY,
    RECORDS_KEY,
    SESSIONMAKER_KEY,
    SETTINGS_KEY,
    STAFF_MESSAGES_KEY,
)
from .bot_client import DeliveryFailed
from .models import IDEMPOTENCY_KEY_LENGTH, RecordLabel, Ticket, utcnow
from .openapi import build_document
from .schemas import (
    AttachmentChanged,
    AttachmentLabelQuery,
    AttachmentOut,
    AttachmentQuery,
    AttachmentReceived,
    AttachmentRelabel,
    ConversationRef,
    ErasureCreate,
    ErasureOut,
    EventOut,
    FollowUpChanged,
    FollowUpCreate,
    FunnelOut,
    FunnelStepCreate,
    GapCreate,
    GapOut,
    History,
    MessageCreate,
    NoteCreate,
    NoteOut,
    TicketCreate,
    TicketListQuery,
    TicketOut,
    TicketPage,
    TicketUpdate,
    TopicAskedCreate,
    TranscriptEntryOut,
    UploadLinkCreate,
    UploadLinkOut,
    UploadLinkState,
)
from .wording import CodedError

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
BODY_CHUNK_BYTES = 256 * 1024

M = TypeVar("M", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

routes = web.RouteTableDef()


class ApiError(Exception):
    """An error the API reports to its client as a JSON body; the message comes from the wording."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Describe the error with an HTTP status, a stable code and its rendered wording."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        """Render the error as a JSON response."""
        body = {"error": {"code": self.code, "message": self.message, "details": self.details}}
        return web.json_response(body, status=self.status, headers=self.headers)


def _ticket_out(request: web.Request, ticket: Ticket) -> TicketOut:
    """The API view of a ticket, with its clocks as they stand now."""
    clocks = request.app[SETTINGS_KEY].service_levels.clocks(ticket, utcnow())
    return TicketOut.from_ticket(ticket, clocks)


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """Tell supervisors and tests that the service is up."""
    return web.json_response({"status": "ok"})


@routes.post("/api/v1/tickets")
async def create_ticket(request: web.Request) -> web.Response:
    """Create a ticket, or return the one already created under the same Idempotency-Key."""
    key = _idempotency_key(request)
    data = _validate(TicketCreate, await _read_json_object(request), code="validation_error")
    levels = request.app[SETTINGS_KEY].service_levels
    async with request.app[SESSIONMAKER_KEY]() as session:
        outcome = await queries.create_ticket(session, data, key, levels)
    ticket = _ticket_out(request, outcome.ticket)
    if outcome.created:
        location = request.app.router["ticket"].url_for(reference=ticket.reference)
        return _json(ticket, status=201, headers={"Location": str(location)})
    return _json(ticket, status=200, headers={"Idempotent-Replayed": "true"})


@routes.get("/api/v1/tickets")
async def list_tickets(request: web.Request) -> web.Response:
    """List tickets, newest first, filtered and paginated."""
    query = _validate(TicketListQuery, _single_valued(request.query), code="invalid_query")
    filters = queries.TicketFilters(
        statuses=() if query.status is None else (query.status,),
        department=query.department,
        assignee=query.assignee,
        channel=query.channel,
        channel_address=query.channel_address,
        text=query.q or None,
        overdue_at=utcnow() if query.overdue else None,
    )
    async with request.app[SESSIONMAKER_KEY]() as session:
        page = await queries.list_tickets(
            session, filters, limit=query.limit, offset=query.offset, order=query.sort
        )
    items = [_ticket_out(request, ticket) for ticket in page.items]
    return _json(TicketPage(items=items, total=page.total, limit=query.limit, offset=query.offset))


@routes.get("/api/v1/tickets/{reference}", name="ticket")
async def get_ticket(request: web.Request) -> web.Response:
    """Return one ticket by its reference."""
    async with request.app[SESSIONMAKER_KEY]() as session:
        ticket = await queries.get_ticket(session, request.match_info["reference"])
    return _json(_ticket_out(request, ticket))


@routes.patch("/api/v1/tickets/{reference}")
async def update_ticket(request: web.Request) -> web.Response:
    """Change a ticket's status (along the workflow) and/or its assignee."""
    data = _validate(TicketUpdate, await _read_json_object(request), code="validation_error")
    async with request.app[SESSIONMAKER_KEY]() as session:
        ticket = await queries.update_ticket(
            session,
            request.match_info["reference"],
            queries.Actor.service(),
            status=data.status,
            assign=data.changes_assignee,
            assignee=data.assignee,
            levels=request.app[SETTINGS_KEY].service_levels,
        )
    return _json(_ticket_out(request, ticket))


@routes.post("/api/v1/tickets/{reference}/notes")
async def add_note(request: web.Request) -> web.Response:
    """Add an internal note to a ticket."""
    data = _validate(NoteCreate, await _read_json_object(request), code="validation_error")
    async with request.app[SESSIONMAKER_KEY]() as session:
        note = await queries.add_note(
            session, request.match_info["reference"], data.text, queries.Actor.service()
        )
    return _json(NoteOut.from_note(note), status=201)


@routes.post("/api/v1/tickets/{reference}/messages")
async def send_message(request: web.Request) -> web.Response:
    """Send a message to the ticket's patient: 201 once the bot took it, 202 while it waits."""
    data = _validate(MessageCreate, await _read_json_object(request), code="validation_error")
    async with request.app[SESSIONMAKER_KEY]() as session:
        sent = await request.app[STAFF_MESSAGES_KEY].send(
            session, request.match_info["reference"], data.text, queries.Actor.service()
        )
    if sent.error is not None:
        raise sent.error
    status = 201 if sent.state == "delivered" else 202
    return _json(TranscriptEntryOut.model_validate(sent.entry), status=status)


@routes.get("/api/v1/tickets/{reference}/history")
async def ticket_history(request: web.Request) -> web.Response:
    """Return a ticket's audit log, oldest first."""
    async with request.app[SESSIONMAKER_KEY]() as session:
        ticket = await queries.get_ticket(session, request.match_info["reference"])
        events = await queries.ticket_history(session, ticket)
    return _json(History(items=[EventOut.from_event(event) for event in events]))


@routes.post("/api/v1/gaps")
async def report_gap(request: web.Request) -> web.Response:
    """Store a question the assistant did not understand, or drop it if it holds contact details."""
    data = _validate(GapCreate, await _read_json_object(request), code="validation_error")
    async with request.app[SESSIONMAKER_KEY]() as session:
        recorded = await gaps.record_gap(session, data.text, data.language, data.intent)
    if recorded:
        return _json(GapOut(status="recorded"), status=201)
    return _json(GapOut(status="dropped"))


@routes.post("/api/v1/funnel")
async def count_funnel_step(request: web.Request) -> web.Response:
    """Count one conversation reaching a step before the handoff, today in the calendar's zone."""
    data = _validate(FunnelStepCreate, await _read_json_object(request), code="validation_error")
    zone = ZoneInfo(request.app[SETTINGS_KEY].service_levels.calendar.zone)
    async with request.app[SESSIONMAKER_KEY]() as session:
        await funnel.count_step(session, data.step, data.language, utcnow().astimezone(zone).date())
    return _json(FunnelOut(status="counted"))


@routes.post("/api/v1/topics-asked")
async def count_topic_asked(request: web.Request) -> web.Response:
    """Count one question about an FAQ topic the content has, today in the calendar's zone."""
    data = _validate(TopicAskedCreate, await _read_json_object(request), code="validation_error")
    if data.topic not in request.app[CONTENT_KEY].store.topics():
        detail = {"field": "topic", "loc": ["topic"], "type": "unknown", "message": data.topic}
        message = wording.text("api_unknown_topic", topic=data.topic)
        raise ApiError(422, "unknown_topic", message, [detail])
    zone = ZoneInfo(request.app[SETTINGS_KEY].service_levels.calendar.zone)
    async with request.app[SESSIONMAKER_KEY]() as session:
        await funnel.count_topic(
            session, data.topic, data.language, utcnow().astimezone(zone).date()
        )
    return _json(FunnelOut(status="counted"))


@routes.post("/api/v1/erasures")
async def erase_conversation(request: web.Request) -> web.Response:
    """Erase the personal data of every ticket of one conversation, at the patient's request."""
    data = _validate(ErasureCreate, await _read_json_object(request), code="validation_error")
    async with request.app[SESSIONMAKER_KEY]() as session:
        erased = await erasure.erase_conversation(session, data.channel, data.channel_address)
    await request.app[RECORDS_KEY].sweep()  # the files whose keys just went
    return _json(ErasureOut(erased=erased))


@routes.post("/api/v1/follow-ups")
async def change_follow_ups(request: web.Request) -> web.Response:
    """Record whether a conversation's patient wants reminders of missing records, or stops them."""
    data = _validate(FollowUpCreate, await _read_json_object(request), code="validation_error")
    async with request.app[SESSIONMAKER_KEY]() as session:
        changed = await follow_ups.set_follow_up(
            session, data.channel, data.channel_address, data.follow_up
        )
    return _json(FollowUpChanged(changed=changed))


@routes.post("/api/v1/attachments")
async def receive_attachment(request: web.Request) -> web.Response:
    """Add a file the patient sent to their conversation's open request."""
    query = _validate(AttachmentQuery, _single_valued(request.query), code="invalid_query")
    records = request.app[RECORDS_KEY]
    ticket = await records.request_of(query.channel, query.channel_address)
    return await _receive(request, ticket, query.label)


@routes.patch("/api/v1/attachments/{attachment_id}")
async def relabel_attachment(request: web.Request) -> web.Response:
    """Change what a file of the conversation's open request holds."""
    query = _validate(ConversationRef, _single_valued(request.query), code="invalid_query")
    data = _validate(AttachmentRelabel, await _read_json_object(request), code="validation_error")
    records = request.app[RECORDS_KEY]
    ticket = await records.request_of(query.channel, query.channel_address)
    changed = await records.relabel(ticket, request.match_info["attachment_id"], data.label)
    return _json(AttachmentChanged(attachment=AttachmentOut.from_attachment(changed)))


@routes.post("/api/v1/upload-links")
async def issue_upload_link(request: web.Request) -> web.Response:
    """Give the conversation's open request a new upload link (the old one stops working)."""
    data = _validate(UploadLinkCreate, await _read_json_object(request), code="validation_error")
    records = request.app[RECORDS_KEY]
    ticket = await records.request_of(data.channel, data.channel_address)
    link = await records.issue_link(ticket)
    out = UploadLinkOut(
        token=link.token,
        expires_at=link.expires_at,
        reference=ticket.reference,
        language=ticket.language,
    )
    return _json(out, status=201)


@routes.get("/api/v1/upload-links/{token}")
async def upload_link_state(request: web.Request) -> web.Response:
    """Say where an upload link leads and what it received; looking never uses it up."""
    records = request.app[RECORDS_KEY]
    ticket, link = await records.request_of_link(request.match_info["token"])
    files = await records.attachments(ticket.id)
    state = UploadLinkState(
        expires_at=link.expires_at,
        reference=ticket.reference,
        language=ticket.language,
        attachments=[AttachmentOut.from_attachment(file) for file in files],
    )
    return _json(state)


@routes.post("/api/v1/upload-links/{token}/attachments")
async def receive_linked_attachment(request: web.Request) -> web.Response:
    """Add a file sent through an upload link to the link's request."""
    query = _validate(AttachmentLabelQuery, _single_valued(request.query), code="invalid_query")
    ticket, _ = await request.app[RECORDS_KEY].request_of_link(request.match_info["token"])
    return await _receive(request, ticket, query.label)


async def _receive(request: web.Request, ticket: Ticket, label: RecordLabel | None) -> web.Response:
    """Take one file from the request body into the ticket: its size is checked before reading."""
    key = _idempotency_key(request)
    records = request.app[RECORDS_KEY]
    attachment = await records.already_received(ticket, key)
    replayed = attachment is not None
    if attachment is None:
        length = request.content_length
        if length is None:
            raise ApiError(411, "length_required", wording.text("file_length_required"))
        await records.check_room(ticket, length)
        body = request.content.iter_chunked(BODY_CHUNK_BYTES)
        attachment = await records.receive(ticket, body, length, label, key)
    out = AttachmentReceived(
        reference=ticket.reference,
        language=ticket.language,
        attachment=AttachmentOut.from_attachment(attachment),
    )
    if replayed:
        return _json(out, status=200, headers={"Idempotent-Replayed": "true"})
    return _json(out, status=201)


@routes.get("/api/v1/openapi.json")
async def openapi_document(request: web.Request) -> web.Response:
    """Describe the API as an OpenAPI 3.1 document generated from the request/response models."""
    return web.json_response(build_document())


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer every failure under /api/ with a JSON error body."""
    if not _is_api(request):
        return await handler(request)
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except DOMAIN_ERRORS as exc:
        return _from_domain_error(exc).response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _from_http_exception(exc, request.method).response()
    except Exception:
        logger.exception("Unexpected error while serving %s %s", request.method, request.path)
        return ApiError(500, "internal_error", wording.text("api_internal_error")).response()


def bearer_auth_middleware(token: str) -> Middleware:
    """Make a middleware that requires 'Authorization: Bearer <token>' under /api/."""
    expected = token.encode()

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Reject API requests that do not carry the right bearer token."""
        if _is_api(request) and not _has_token(request, expected):
            raise ApiError(
                401,
                "unauthorized",
                wording.text("api_unauthorized"),
                headers={"WWW-Authenticate": "Bearer"},
            )
        return await handler(request)

    return middleware


# The HTTP status and the API's code of each domain error; the message is the error's wording.
DOMAIN_ANSWERS: dict[type[CodedError], tuple[int, str]] = {
    queries.TicketNotFound: (404, "ticket_not_found"),
    queries.TransitionNotAllowed: (409, "transition_not_allowed"),
    queries.UnknownAssignee: (422, "unknown_assignee"),
    queries.TicketChanged: (409, "ticket_changed"),
    queries.TicketErased: (409, "ticket_erased"),
    DeliveryFailed: (502, "delivery_failed"),
    attachments.NoOpenRequest: (404, "no_open_request"),
    attachments.NoSuchAttachment: (404, "no_such_attachment"),
    attachments.FileTooLarge: (413, "file_too_large"),
    attachments.RequestTooLarge: (413, "request_too_large"),
    attachments.IncompleteBody: (400, "incomplete_body"),
    attachments.UnknownLink: (404, "unknown_link"),
    attachments.LinkExpired: (410, "link_expired"),
    attachments.LinkRevoked: (410, "link_revoked"),
    record_files.UnsupportedType: (415, "unsupported_type"),
    record_files.UnsafeArchive: (422, "unsafe_archive"),
    record_files.DamagedFile: (422, "damaged_file"),
}
DOMAIN_ERRORS = tuple(DOMAIN_ANSWERS)
# The wording of aiohttp's own HTTP errors; any other one says its reason phrase.
HTTP_WORDING = {
    404: "api_no_such_endpoint",
    405: "api_method_not_allowed",
    413: "api_body_too_large",
}


def _from_domain_error(exc: CodedError) -> ApiError:
    """Translate a domain error into the API's answer."""
    status, code = next(answer for kind, answer in DOMAIN_ANSWERS.items() if isinstance(exc, kind))
    message = wording.describe(exc)
    if not isinstance(exc, queries.UnknownAssignee):
        return ApiError(status, code, message)
    detail = {"field": "assignee", "loc": ["assignee"], "message": message, "type": "unknown"}
    return ApiError(status, code, wording.text("api_invalid_request", problems=[detail]), [detail])


def _is_api(request: web.Request) -> bool:
    """Tell whether a request belongs to the REST API."""
    return request.path.startswith(API_PREFIX) or request.path == API_PREFIX.rstrip("/")


def _has_token(request: web.Request, expected: bytes) -> bool:
    """Compare the request's bearer token with the expected one in constant time."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8", "surrogatepass"), expected)


def _idempotency_key(request: web.Request) -> str | None:
    """Return the Idempotency-Key header, checked, or None when absent."""
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > IDEMPOTENCY_KEY_LENGTH or not key.isprintable():
        raise ApiError(
            400,
            "invalid_idempotency_key",
            wording.text("api_bad_idempotency_key", maximum=IDEMPOTENCY_KEY_LENGTH),
        )
    return key


async def _read_json_object(request: web.Request) -> dict[str, Any]:
    """Read the request body as a JSON object, or raise a 4xx ApiError."""
    if request.content_type != "application/json" and not request.content_type.endswith("+json"):
        raise ApiError(415, "unsupported_media_type", wording.text("api_not_json"))
    body = await request.read()
    if not body.strip():
        raise ApiError(400, "invalid_json", wording.text("api_empty_body"))
    try:
        value = json.loads(body)
    except json.JSONDecodeError as exc:
        message = wording.text(
            "api_json_syntax", problem=exc.msg, line=exc.lineno, column=exc.colno
        )
        raise ApiError(400, "invalid_json", message) from exc
    except (UnicodeDecodeError, RecursionError) as exc:
        raise ApiError(400, "invalid_json", wording.text("api_json_encoding")) from exc
    if not isinstance(value, dict):
        raise ApiError(
            400, "invalid_body", wording.text("api_not_an_object", kind=_json_kind(value))
        )
    return value


def _json_kind(value: object) -> str:
    """Name the JSON type of a decoded value, as JSON Schema does."""
    kinds = {list: "array", str: "string", bool: "boolean", type(None): "null"}
    return kinds.get(type(value), "number")


def _single_valued(query: Mapping[str, str]) -> dict[str, str]:
    """Turn a query string into a dict, refusing repeated parameters."""
    keys = list(query.keys())
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ApiError(
            400, "invalid_query", wording.text("api_repeated_parameters", names=repeated)
        )
    return dict(query)


def _validate(model: type[M], data: Mapping[str, Any], *, code: str) -> M:
    """Validate data against a model, or raise an ApiError listing every problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = _error_details(
            exc.errors(include_url=False, include_context=False, include_input=False)
        )
        status = 422 if code == "validation_error" else 400
        message = wording.text("api_invalid_request", problems=details)
        raise ApiError(status, code, message, details) from exc


def _error_details(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Turn pydantic errors into the API's per-field details."""
    return [
        {
            "field": ".".join(str(part) for part in error["loc"]),
            "loc": list(error["loc"]),
            "message": error["msg"],
            "type": error["type"],
        }
        for error in errors
    ]


def _from_http_exception(exc: web.HTTPException, method: str) -> ApiError:
    """Translate one of aiohttp's HTTP errors into an ApiError."""
    code = exc.reason.lower().replace(" ", "_").replace("-", "_")
    headers = {name: value for name, value in exc.headers.items() if name.lower() == "allow"}
    said = HTTP_WORDING.get(exc.status)
    message = exc.reason if said is None else wording.text(said, method=method)
    return ApiError(exc.status, code, message, headers=headers)


def _json(
    model: BaseModel, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Serialise a pydantic model as a JSON response."""
    return web.Response(
        text=model.model_dump_json(),
        status=status,
        content_type="application/json",
        headers=headers,
    )
