"""The OpenAPI 3.1 document of the ticket API, generated from the models the API validates with."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from .models import IDEMPOTENCY_KEY_LENGTH
from .schemas import (
    AttachmentChanged,
    AttachmentLabelQuery,
    AttachmentQuery,
    AttachmentReceived,
    AttachmentRelabel,
    ConversationRef,
    ErasureCreate,
    ErasureOut,
    ErrorResponse,
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

REF_TEMPLATE = "#/components/schemas/{model}"
TICKET_PATH = "/api/v1/tickets/{reference}"

ERROR_REASONS = {
    400: "The body is not a JSON object, or the query string is invalid.",
    401: "The bearer token is missing or wrong.",
    404: "No ticket has this reference.",
    409: (
        "The workflow does not allow this status change, the ticket changed meanwhile, "
        "or its personal data was erased (no message can reach the patient)."
    ),
    413: "The body is too large.",
    415: "The body is not JSON.",
    422: "A field is missing or invalid (each one is listed in details).",
    502: "The bot could not deliver the message; it was not added to the transcript.",
}
# What an error means for the records' endpoints, where it differs from the tickets'.
RECORD_REASONS = {
    400: "The query is invalid, or the body did not hold the bytes its Content-Length announced.",
    404: "The conversation has no open request (or the file is not its).",
    410: "The upload link expired, was replaced, or its request was closed.",
    411: "The Content-Length header is missing.",
    413: "The file is over the limit for one file, or would take the request over its total.",
    415: "The bytes are none of PDF, JPEG, PNG, HEIC, DOCX, DICOM or ZIP (names are not trusted).",
    422: "A ZIP over its limits (a zip bomb), or a file that is not the type it claims.",
}
LINK_REASONS = {**RECORD_REASONS, 404: "No upload link has this token."}
FILE_BODY = "The file's bytes, exactly Content-Length of them."
FILE_ERRORS = (400, 404, 411, 413, 415, 422)
BODY_ERRORS = (400, 413, 415, 422)


@dataclass(frozen=True)
class Operation:
    """One documented endpoint: what it takes and what it answers."""

    method: Literal["get", "post", "patch"]
    path: str
    operation_id: str
    summary: str
    responses: dict[int, tuple[str, type[BaseModel]]]
    body: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    query: type[BaseModel] | None = None
    idempotency_key: bool = False
    description: str = ""
    tags: tuple[str, ...] = field(default=("tickets",))
    raw_body: str = ""  # the description of a body of bytes, when it is not JSON
    reasons: dict[int, str] = field(default_factory=dict)  # what an error means here


OPERATIONS = (
    Operation(
        "post",
        "/api/v1/tickets",
        "createTicket",
        "Create a ticket (an Idempotency-Key makes retries safe)",
        {
            201: ("The ticket was created.", TicketOut),
            200: ("A ticket already exists under this Idempotency-Key.", TicketOut),
        },
        body=TicketCreate,
        errors=BODY_ERRORS,
        idempotency_key=True,
        description="contact.phone is required unless kind is 'callback'.",
    ),
    Operation(
        "get",
        "/api/v1/tickets",
        "listTickets",
        "List tickets, newest first, with filters and pagination",
        {200: ("One page of tickets.", TicketPage)},
        errors=(400,),
        query=TicketListQuery,
        description=(
            "Filter by channel and channel_address to find one conversation's own tickets."
        ),
    ),
    Operation(
        "get",
        TICKET_PATH,
        "getTicket",
        "Return one ticket",
        {200: ("The ticket.", TicketOut)},
        errors=(404,),
    ),
    Operation(
        "patch",
        TICKET_PATH,
        "updateTicket",
        "Change a ticket's status along the workflow, and/or its assignee",
        {200: ("The updated ticket.", TicketOut)},
        body=TicketUpdate,
        errors=(*BODY_ERRORS, 404, 409),
        description=(
            "Workflow: new → in_progress → waiting_for_records → appointment_scheduled → closed; "
            "in_progress → appointment_scheduled is allowed too; any open status → cancelled. "
            "Closed and cancelled are final. Setting the current status again changes nothing."
        ),
    ),
    Operation(
        "post",
        f"{TICKET_PATH}/notes",
        "addNote",
        "Add an internal note (the patient never sees it)",
        {201: ("The note.", NoteOut)},
        body=NoteCreate,
        errors=(*BODY_ERRORS, 404, 409),
    ),
    Operation(
        "post",
        f"{TICKET_PATH}/messages",
        "messagePatient",
        "Send a message to the patient through the bot, and add it to the transcript",
        {201: ("The message was delivered; this is its transcript line.", TranscriptEntryOut)},
        body=MessageCreate,
        errors=(*BODY_ERRORS, 404, 409, 502),
    ),
    Operation(
        "get",
        f"{TICKET_PATH}/history",
        "getTicketHistory",
        "Return the ticket's audit log, oldest first",
        {200: ("Who changed what, and when.", History)},
        errors=(404,),
    ),
    Operation(
        "post",
        "/api/v1/gaps",
        "reportGap",
        "Report a question the assistant did not understand, without who asked it",
        {
            201: ("The question was stored for the editors' gap report.", GapOut),
            200: ("The question was dropped: it was empty or held contact details.", GapOut),
        },
        body=GapCreate,
        errors=BODY_ERRORS,
        description=(
            "A question holding something like a phone number or an e-mail address is never "
            "stored. Questions are kept to 300 characters."
        ),
        tags=("gaps",),
    ),
    Operation(
        "post",
        "/api/v1/funnel",
        "countFunnelStep",
        "Count one conversation reaching a step before the handoff, for the reports",
        {200: ("One more conversation reached the step today.", FunnelOut)},
        body=FunnelStepCreate,
        errors=BODY_ERRORS,
        description=(
            "Adds one to the day's count of the step in that language (the day in the business "
            "calendar's zone). Nothing else is kept: no conversation, channel or time of day. "
            "Send each step once per conversation, when the conversation first reaches it."
        ),
        tags=("reports",),
    ),
    Operation(
        "post",
        "/api/v1/topics-asked",
        "countTopicAsked",
        "Count one question about an FAQ topic, for the reports",
        {200: ("One more question about the topic today.", FunnelOut)},
        body=TopicAskedCreate,
        errors=BODY_ERRORS,
        description=(
            "Adds one to the day's count of the topic in that language (the day in the business "
            "calendar's zone). The topic must be one of the content's; 422 otherwise. Nothing "
            "else is kept: no conversation, no question, no time of day."
        ),
        tags=("reports",),
    ),
    Operation(
        "post",
        "/api/v1/erasures",
        "eraseConversation",
        "Erase the personal data of every ticket of one conversation (the patient's request)",
        {200: ("The tickets that were anonymised; an empty list if there were none.", ErasureOut)},
        body=ErasureCreate,
        errors=BODY_ERRORS,
        description=(
            "Matches tickets on channel and channel_address. Each one loses its contact details, "
            "transcript, cancer type, stage, residence, records checklist, channel address and "
            "the text of its notes and of the audit events that held text; it keeps its "
            "reference, kind, status, department, language, channel, timestamps and audit log, "
            "with one 'erased' event. An open ticket is cancelled. Erasing again is harmless."
        ),
        tags=("privacy",),
    ),
    Operation(
        "post",
        "/api/v1/follow-ups",
        "changeFollowUps",
        "Record a patient's answer about reminders of missing records, or stop them",
        {200: ("The open requests of the conversation whose answer changed.", FollowUpChanged)},
        body=FollowUpCreate,
        errors=BODY_ERRORS,
        description=(
            "Applies to the conversation's requests that still wait for records. wanted starts "
            "the reminders (the first one the legal delay after the handoff, in business hours, "
            "at most RECEPTION_FOLLOW_UPS); declined and stopped end them. Stopping a ticket "
            "that never had them changes nothing."
        ),
        tags=("follow-ups",),
    ),
    Operation(
        "post",
        "/api/v1/attachments",
        "receiveAttachment",
        "Add a file the patient sent to their conversation's open request",
        {
            201: ("The file was received, checked, scanned and stored.", AttachmentReceived),
            200: ("A file was already received under this Idempotency-Key.", AttachmentReceived),
        },
        query=AttachmentQuery,
        raw_body=FILE_BODY,
        idempotency_key=True,
        errors=FILE_ERRORS,
        reasons=RECORD_REASONS,
        description=(
            "The type is found in the bytes. The size is checked against the limits before the "
            "body is read. scan is clean, infected (quarantined: staff cannot open it) or "
            "pending (the scanner was unavailable; it is scanned again later). Without a label, "
            "reception guesses one and label_guessed is true."
        ),
        tags=("records",),
    ),
    Operation(
        "patch",
        "/api/v1/attachments/{attachment_id}",
        "relabelAttachment",
        "Change what a file of the conversation's open request holds",
        {200: ("The file, with its new label.", AttachmentChanged)},
        query=ConversationRef,
        body=AttachmentRelabel,
        errors=(*BODY_ERRORS, 404),
        reasons=RECORD_REASONS,
        tags=("records",),
    ),
    Operation(
        "post",
        "/api/v1/upload-links",
        "issueUploadLink",
        "Give the conversation's open request a new upload link",
        {201: ("The link's token, given out this once; only its hash is kept.", UploadLinkOut)},
        body=UploadLinkCreate,
        errors=(*BODY_ERRORS, 404),
        reasons={404: RECORD_REASONS[404]},
        description=(
            "The request's previous link stops working. A link lives RECEPTION_UPLOAD_LINK_DAYS."
        ),
        tags=("records",),
    ),
    Operation(
        "get",
        "/api/v1/upload-links/{token}",
        "getUploadLink",
        "Say which request an upload link adds files to, and what it received",
        {200: ("The link's request, language and files.", UploadLinkState)},
        errors=(404, 410),
        reasons=LINK_REASONS,
        description="Looking never uses the link up: a link-preview crawler cannot spend it.",
        tags=("records",),
    ),
    Operation(
        "post",
        "/api/v1/upload-links/{token}/attachments",
        "receiveLinkedAttachment",
        "Add a file sent through an upload link to the link's request",
        {
            201: ("The file was received, checked, scanned and stored.", AttachmentReceived),
            200: ("A file was already received under this Idempotency-Key.", AttachmentReceived),
        },
        query=AttachmentLabelQuery,
        raw_body=FILE_BODY,
        idempotency_key=True,
        errors=(*FILE_ERRORS, 410),
        reasons=LINK_REASONS,
        tags=("records",),
    ),
)
PATH_PARAMETERS = {
    "reference": "The ticket's reference, e.g. SO-2026-00042.",
    "attachment_id": "The file's id.",
    "token": "The upload link's token.",
}


@cache
def _document() -> dict[str, Any]:
    """Build the document once."""
    refs, schemas = _component_schemas()
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method] = _operation(
            operation, refs, schemas
        )
    paths["/api/v1/openapi.json"] = {"get": _openapi_operation()}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Reception ticket API",
            "version": "1.0.0",
            "description": "Tickets handed over by the second-opinion assistant.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def build_document() -> dict[str, Any]:
    """Return the OpenAPI document (a fresh copy the caller may change)."""
    return copy.deepcopy(_document())


def _component_schemas() -> tuple[dict[tuple[Any, str], str], dict[str, Any]]:
    """Generate the JSON schemas of every model, as reusable components."""
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorResponse, "serialization")]
    for operation in OPERATIONS:
        models.extend((model, "serialization") for _, model in operation.responses.values())
        for model in (operation.body, operation.query):
            if model is not None:
                models.append((model, "validation"))
    unique = list(dict.fromkeys(models))
    keys, top = models_json_schema(unique, ref_template=REF_TEMPLATE)
    refs: dict[tuple[Any, str], str] = {key: value["$ref"] for key, value in keys.items()}
    defs: dict[str, Any] = top.get("$defs", {})
    return refs, defs


def _operation(
    operation: Operation,
    refs: dict[tuple[type[BaseModel], str], str],
    schemas: dict[str, Any],
) -> dict[str, Any]:
    """Describe one operation."""
    described: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": list(operation.tags),
        "parameters": _parameters(operation, refs, schemas),
        "responses": _responses(operation, refs),
    }
    if operation.description:
        described["description"] = operation.description
    if operation.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(refs[(operation.body, "validation")])}},
        }
    if operation.raw_body:
        described["requestBody"] = {
            "required": True,
            "description": operation.raw_body,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    return described


def _parameters(
    operation: Operation,
    refs: dict[tuple[type[BaseModel], str], str],
    schemas: dict[str, Any],
) -> list[dict[str, Any]]:
    """Describe the path, header and query parameters of an operation."""
    parameters: list[dict[str, Any]] = []
    for name, description in PATH_PARAMETERS.items():
        if f"{{{name}}}" in operation.path:
            parameters.append(
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "description": description,
                    "schema": {"type": "string"},
                }
            )
    if operation.idempotency_key:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "The same key always returns the same ticket (or file).",
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": IDEMPOTENCY_KEY_LENGTH,
                    "pattern": "^[!-~]([ -~]*[!-~])?$",
                },
            }
        )
    if operation.query is not None:
        name = refs[(operation.query, "validation")].rsplit("/", 1)[1]
        parameters.extend(_query_parameters(schemas.pop(name)))
    return parameters


def _query_parameters(model_schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Turn a query model's properties into optional query parameters (null is not sent)."""
    parameters = []
    required = set(model_schema.get("required", ()))
    for name, schema in model_schema["properties"].items():
        property_schema = dict(schema)
        description = property_schema.pop("description", None)
        property_schema.pop("title", None)
        options = property_schema.pop("anyOf", None)
        if options is not None:
            property_schema.update(next(o for o in options if o.get("type") != "null"))
        parameter = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": property_schema,
        }
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _responses(
    operation: Operation, refs: dict[tuple[type[BaseModel], str], str]
) -> dict[str, Any]:
    """Describe the success and error answers of an operation."""
    responses: dict[str, Any] = {}
    for status, (description, model) in sorted(operation.responses.items()):
        responses[str(status)] = _json_response(description, refs[(model, "serialization")])
    error_ref = refs[(ErrorResponse, "serialization")]
    for status in sorted({*operation.errors, 401}):
        reason = operation.reasons.get(status, ERROR_REASONS.get(status))
        responses[str(status)] = _json_response(reason or "", error_ref)
    return responses


def _openapi_operation() -> dict[str, Any]:
    """Describe the endpoint that serves this document."""
    return {
        "operationId": "getOpenApiDocument",
        "summary": "This OpenAPI document",
        "tags": ["meta"],
        "responses": {
            "200": {
                "description": "The OpenAPI 3.1 document.",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "401": _json_response(ERROR_REASONS[401], REF_TEMPLATE.format(model="ErrorResponse")),
        },
    }


def _json_response(description: str, ref: str) -> dict[str, Any]:
    """Describe a JSON answer with a schema reference."""
    return {"description": description, "content": {"application/json": {"schema": _ref(ref)}}}


def _ref(ref: str) -> dict[str, str]:
    """Return a JSON reference object."""
    return {"$ref": ref}
