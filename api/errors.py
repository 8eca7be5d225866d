"""One error shape for every error: `{code, status, message, errors}`.

Except under /open311/, where GeoReport v2 fixes its own (`[{code, description}]`, in the
format the path asks for), and under /console/, where errors are pages: those packages
register a renderer for their prefix, and the same handlers answer there through `_answer`,
so every error of every kind takes that shape on those paths and no other.
"""
from __future__ import annotations

import logging

from flask import Flask, has_request_context, jsonify, request
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from models.errors import DomainError

from .i18n import translate

log = logging.getLogger("api.errors")

DEFAULT_MESSAGE_KEYS = {
    400: "invalid_json",
    401: "token_missing",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    500: "internal_error",
}


def flatten_errors(messages, prefix: str = "", word=None) -> dict[str, list[str]]:
    """webargs/marshmallow nest errors by location and field; clients get flat dotted names.

    `word` turns each message into its text (the caller's language by default; the console
    words them per page, so it keeps them as they are: `word=str`).
    """
    word = word or translate
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            key = str(key)
            if key == "_schema":
                name = prefix or "_schema"
            else:
                name = f"{prefix}.{key}" if prefix else key
            for field, texts in flatten_errors(value, name, word).items():
                flat.setdefault(field, []).extend(texts)
    elif isinstance(messages, (list, tuple)):
        texts = []
        for item in messages:
            if isinstance(item, (dict, list, tuple)):
                for field, nested in flatten_errors(item, prefix, word).items():
                    flat.setdefault(field, []).extend(nested)
            else:
                texts.append(word(str(item)))
        if texts:
            flat.setdefault(prefix or "_schema", []).extend(texts)
    else:
        flat.setdefault(prefix or "_schema", []).append(word(str(messages)))
    return flat


def _strip_locations(messages: dict) -> dict:
    # webargs keys errors by where they came from (json, query, form ...); API.md wants field names.
    if all(k in {"json", "query", "form", "files", "headers", "path", "view_args", "json_or_form"} for k in messages):
        merged: dict = {}
        for value in messages.values():
            if isinstance(value, dict):
                merged.update(value)
            else:
                merged.setdefault("_schema", []).extend(value if isinstance(value, list) else [value])
        return merged
    return messages


# Paths whose errors another shape fixes: prefix -> renderer(code, message, errors, headers).
ERROR_RENDERERS: dict[str, object] = {}


def register_error_renderer(prefix: str, renderer) -> None:
    """Open311 (its specification's shape) and the console (an HTML page) answer errors their way."""
    ERROR_RENDERERS[prefix] = renderer


def _answer(code: int, message: str, errors: dict | None = None, headers: dict | None = None):
    if has_request_context():
        for prefix, renderer in ERROR_RENDERERS.items():
            if request.path.startswith(prefix):
                return renderer(code, message, errors, headers)
    response = jsonify(error_body(code, message, errors))
    response.status_code = code
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_body(code: int, message: str, errors: dict | None = None) -> dict:
    return {
        "code": code,
        "status": HTTP_STATUS_CODES.get(code, "Error"),
        "message": message,
        "errors": errors or {},
    }


def http_error_response(error: HTTPException):
    code = error.code or 500
    data = getattr(error, "data", None) or {}
    message = data.get("message")
    errors = data.get("errors")
    if errors is None and "messages" in data:
        errors = _strip_locations(data["messages"])
    if errors:
        errors = flatten_errors(errors)
    if code == 400 and errors and not message:
        message = translate("invalid_json")
    if not message:
        message = translate(DEFAULT_MESSAGE_KEYS.get(code, "internal_error"))
    response = _answer(code, message, errors)
    # Keep what werkzeug knows about the error: `Allow` on 405, `Retry-After` on 429 ...
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    if code == 405 and "Allow" not in response.headers and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    if code == 429 and "Retry-After" not in response.headers and "Retry-After" not in (data.get("headers") or {}):
        # Throttles (api.throttle) name the real wait; a conservative guess beats no header.
        response.headers["Retry-After"] = "60"
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response


def domain_error_response(error: DomainError):
    message = translate(error.message_key, **error.params)
    errors = None
    if error.errors:
        errors = {
            field: [translate(text, **error.params) for text in texts] for field, texts in error.errors.items()
        }
    return _answer(error.http_status, message, errors)


def abort_json(code: int, message_key: str, errors: dict | None = None, headers: dict | None = None, **params):
    """Raise an HTTP error whose body is in the API's shape, with a translated message."""
    from flask_smorest import abort

    if errors:
        # Field messages are keys too (and may carry the same values as the message).
        errors = {field: [translate(text, **params) for text in texts] for field, texts in errors.items()}
    if headers:
        abort(code, message=translate(message_key, **params), errors=errors, headers=headers)
    abort(code, message=translate(message_key, **params), errors=errors)


def validation_error_response(error: ValidationError):
    """Validation raised inside a view (a bad cursor, say): 422 like any other bad input."""
    messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    return _answer(422, translate("invalid_input"), flatten_errors(messages))


def database_unavailable(error: DBAPIError):
    """A lost database connection: a retry in a moment will work; anything else is a bug."""
    if not error.connection_invalidated:
        raise error
    log.warning("database connection lost; the pool is being replaced")
    return _answer(503, translate("database_unavailable"), headers={"Retry-After": "1"})


# SQLSTATEs of a row that collides with another (unique) or lost its parent meanwhile
# (foreign key): what a parallel request did first, a conflict with the state (409).
CONFLICT_SQLSTATES = {"23505", "23503"}


def integrity_conflict(error: IntegrityError):
    """A constraint the database enforced against a race (two registrations of one address).

    Operations check first and answer in their own words; this catches what slips between
    the check and the write, on every route. Other integrity errors are bugs.
    """
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None)
    text = str(original)
    if sqlstate not in CONFLICT_SQLSTATES and not text.startswith(("UNIQUE constraint failed", "FOREIGN KEY constraint failed")):
        raise error
    return _answer(409, translate("conflict_duplicate"))


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, domain_error_response)
    app.register_error_handler(IntegrityError, integrity_conflict)
    app.register_error_handler(ValidationError, validation_error_response)
    app.register_error_handler(DBAPIError, database_unavailable)

    @app.errorhandler(Exception)
    def unexpected(error):  # pragma: no cover - a bug, never client input
        if isinstance(error, HTTPException):
            return http_error_response(error)
        log.exception("unhandled error")
        return http_error_response(InternalServerError())
