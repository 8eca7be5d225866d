"""What the OpenAPI spec says beyond flask-smorest's defaults: every error an operation answers.

Most statuses follow from what an operation is, so they are written where that knowledge
lives rather than by hand per route:

- the access decorators (api.security) mark 401 (any token check) and 403 (a role, or a
  change that a blocked user may not make), with `answers` / `answers_when_changing`;
- `ErrorAnswersPlugin` (an apispec plugin, run once per path) adds 400/413/415/422 for a
  request body (413/415 for any changing method, which may be sent one anyway), 409/422 for `Idempotency-Key`, 422 for query parameters (cursor, limit),
  404 for path parameters and 503 everywhere (a lost database connection);
- a route adds what only it knows (409 for a wrong state or a duplicate, 404 for a hidden
  object named in the body, 429 where it is throttled) with `@answers(...)` next to it.

Every error answer refers to one `Error` schema, the shape `api.errors` writes.
"""
from __future__ import annotations

import re
from copy import deepcopy

import marshmallow as ma
from apispec import BasePlugin

READ_METHODS = frozenset({"get", "head", "options"})
MARKS = "x-answers"

# One reusable response per status; the description says when it happens.
ERROR_ANSWERS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "The body is not well-formed JSON (or not JSON where JSON is expected)."),
    401: ("Unauthorized", "Missing (where a login is needed), malformed, expired or revoked token. Also on public operations when an `Authorization: Bearer` header carries no valid token."),
    403: ("Forbidden", "The token is valid but the caller may not do this: a missing role, or a blocked account trying to change something."),
    404: ("NotFound", "Absent, or not visible to the caller (existence is not revealed)."),
    409: ("Conflict", "Conflict with the object's state: wrong phase, illegal transition, a duplicate, or the same `Idempotency-Key` while its first request still runs."),
    413: ("TooLarge", "The body is too large."),
    415: ("UnsupportedMediaType", "The body's media type is not accepted here."),
    422: ("InvalidInput", "Invalid input: `errors` names each field (dotted for nested fields, query parameters by name), a bad `cursor` or `limit`, or an `Idempotency-Key` reused for another body."),
    429: ("TooManyRequests", "Rate limited: try again after `Retry-After` seconds."),
    503: ("Unavailable", "The database connection was lost: retry after `Retry-After` seconds."),
}
RETRY_AFTER = {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
ANSWER_HEADERS = {
    401: {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}},
    429: {"Retry-After": RETRY_AFTER},
    503: {"Retry-After": RETRY_AFTER},
}
BODY_ANSWERS = (400, 413, 415, 422)
IDEMPOTENCY_ANSWERS = (409, 422)

DESCRIPTION = """\
The API behind Dortmund's participation app: ideas (KümmertEuch), moderation, budget votes of
bodies such as the Jugendparlament, and the reference data they share. JSON in UTF-8; times are
`YYYY-MM-DDTHH:MM:SS+00:00`, and time input without an offset is refused.

## Logging in

1. `POST /api/v1/auth/login` with `{"email", "password"}` (or `POST /api/v1/auth/register`)
   answers `{user, access_token, refresh_token}`.
2. Send `Authorization: Bearer <access_token>` with every request. Access tokens last
   15 minutes; on public operations a missing token means anonymous, an invalid one is 401.
3. When it expires, `POST /api/v1/auth/refresh` with `Authorization: Bearer <refresh_token>`
   answers a new `access_token`. Refresh tokens last 30 days; `POST /api/v1/auth/logout`
   revokes both.

Repeated failed logins are answered 429 with `Retry-After`.

## Errors

Every error has one shape (the `Error` schema):
`{"code": 422, "status": "Unprocessable Entity", "message": "<text>", "errors": {"<field>": ["<message>"]}}`.
`errors` is flat: field names as sent, dotted for nested fields (`location.lat`), query
parameters by name; it is `{}` when no field is to blame. 401 is decided before 403, and both
before the body is read: 400 malformed JSON, 413 too large, 415 wrong media type, 422 invalid
input; 404 absent or not visible; 409 wrong state or duplicate; 429 rate limited
(`Retry-After`); 503 the database is briefly unreachable (`Retry-After`).

## Languages

`Accept-Language: de` (the default) or `en` chooses the language of messages and category
names; the answer says which in `Content-Language`.

## Idempotency-Key

Creating POSTs (except registration) accept an `Idempotency-Key` header (up to 255 printable
ASCII characters, kept 24 hours per user): a repeat with the same body returns the first answer
(`Idempotent-Replayed: true`) and creates nothing; the same key with another body is 422; a
repeat while the first is still running is 409.

## Lists and cursors

Lists answer `{"items": [...], "next_cursor": "<opaque>" | null}`. `?limit=` takes 1–100
(default 20); pass `next_cursor` back as `?cursor=` for the next page until it is null. Each
matching object comes exactly once even while new ones are created. A bad `cursor` or `limit`
is 422. `/districts`, `/categories` and `/bodies` are bare arrays.
"""


class ErrorSchema(ma.Schema):
    """The one error shape (api.errors.error_body); documentation only."""

    code = ma.fields.Integer(required=True, metadata={"description": "The HTTP status."})
    status = ma.fields.String(required=True, metadata={"description": "Its reason phrase."})
    message = ma.fields.String(required=True, metadata={"description": "Human text in the caller's language."})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        required=True,
        metadata={"description": "Messages per field: names as sent, dotted for nested fields, query parameters by name."},
    )


def answers(*codes: int, when_changing: tuple[int, ...] = ()):
    """Document error statuses of an operation that the plugin cannot work out by itself.

    `when_changing` ones apply only to methods that change something (not GET/HEAD/OPTIONS):
    an access decorator does not know the HTTP method of the view it wraps. The view itself
    is returned (only its `_apidoc` grows), so this can sit anywhere below `@blp.route`.
    """

    def mark(func):
        apidoc = deepcopy(getattr(func, "_apidoc", {}))
        marks = apidoc.setdefault("manual_doc", {}).setdefault(MARKS, {})
        for code in when_changing:
            marks.setdefault(str(code), "changing")
        for code in codes:
            marks[str(code)] = "always"
        func._apidoc = apidoc
        return func

    return mark


def error_response(code: int) -> dict:
    name, description = ERROR_ANSWERS[code]
    response = {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if code in ANSWER_HEADERS:
        response["headers"] = deepcopy(ANSWER_HEADERS[code])
    return response


class ErrorAnswersPlugin(BasePlugin):
    """Adds to each operation the error answers that follow from its shape (see module doc)."""

    def init_spec(self, spec):
        super().init_spec(spec)
        self.spec = spec
        # Registered before flask-smorest's own error responses, so that its ERROR_SCHEMA
        # (the same class, api.extensions) resolves to this name.
        spec.components.schema("Error", schema=ErrorSchema)
        for code, (name, _) in ERROR_ANSWERS.items():
            spec.components.response(name, error_response(code))

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        has_path_parameters = bool(rule.arguments) if rule is not None else "{" in (path or "")
        for method, operation in (operations or {}).items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = self._codes(method, operation, has_path_parameters)
            responses = operation["responses"]
            for code in sorted(codes):
                key = next((k for k in (code, str(code)) if k in responses), code)
                own = responses.get(key)
                if isinstance(own, dict) and own:
                    # A route's own description (`alt_response`) keeps its words, gains the shape.
                    default = error_response(code)
                    own.setdefault("content", default["content"])
                    if "headers" in default:
                        own.setdefault("headers", default["headers"])
                else:
                    # Absent, or flask-smorest's generic reference ("UNPROCESSABLE_ENTITY").
                    responses[key] = ERROR_ANSWERS[code][0]

    @staticmethod
    def _codes(method: str, operation: dict, has_path_parameters: bool) -> set[int]:
        codes = {503}
        for code, when in operation.pop(MARKS, {}).items():
            if when == "always" or method not in READ_METHODS:
                codes.add(int(code))
        if "requestBody" in operation:
            codes.update(BODY_ANSWERS)
        elif method not in READ_METHODS:
            # A body nobody asked for is still looked at: too large, or not JSON.
            codes.update((413, 415))
        parameters = [p for p in operation.get("parameters", []) if isinstance(p, dict)]
        if any(p.get("in") == "header" and p.get("name") == "Idempotency-Key" for p in parameters):
            codes.update(IDEMPOTENCY_ANSWERS)
        if any(p.get("in") == "query" for p in parameters):
            codes.add(422)
        if has_path_parameters:
            codes.add(404)
        # Any status a route documented itself with `alt_response` that we know is an error.
        for code in list(operation["responses"]):
            if str(code).isdigit() and int(code) in ERROR_ANSWERS:
                codes.add(int(code))
        return codes


FLASK_PARAMETER = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


def spec_path(rule: str) -> str:
    """`/ideas/<id:idea_id>` as the spec writes it: `/ideas/{idea_id}`."""
    return FLASK_PARAMETER.sub(r"{\1}", rule)


def spec_kwargs() -> dict:
    return {
        "info": {"description": DESCRIPTION},
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
        "security": [{"bearerAuth": []}],
        "servers": [{"url": "/"}],
        "extra_plugins": [ErrorAnswersPlugin()],
    }
