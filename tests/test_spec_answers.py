"""The OpenAPI spec lists every error an operation can answer, in the one error shape.

tests/spec_coverage.py checks at the end of each run that every answer the suite saw is
documented; these tests name a few operations outright, so that a regression in the
mechanism (api/openapi_doc.py, the access decorators) fails visibly in one place.
"""
from __future__ import annotations

import pytest

ERROR_REF = {"$ref": "#/components/schemas/Error"}


@pytest.fixture(scope="module")
def spec(app):
    with app.app_context():
        return app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


def resolved(spec, response: dict) -> dict:
    if "$ref" in response:
        return spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response


@pytest.mark.parametrize(
    "method, path, codes",
    [
        # public, body, throttled, wrong credentials
        ("post", "/api/v1/auth/login", {200, 400, 401, 413, 415, 422, 429}),
        # public, body, duplicate e-mail, throttled
        ("post", "/api/v1/auth/register", {201, 400, 401, 409, 413, 415, 422, 429}),
        # login, a changing method (blocked users), body, Idempotency-Key
        ("post", "/api/v1/ideas", {201, 400, 401, 403, 409, 413, 415, 422}),
        # public list: a bad cursor or limit
        ("get", "/api/v1/ideas", {200, 401, 422}),
        # path parameter, state conflict
        ("delete", "/api/v1/ideas/{idea_id}", {204, 401, 403, 404, 409}),
        # a role, path parameter, body
        ("put", "/api/v1/moderation/users/{user_id}/block", {204, 400, 401, 403, 404, 413, 415, 422}),
        # a hidden target named in the body
        ("post", "/api/v1/flags", {201, 400, 401, 403, 404, 409, 413, 415, 422}),
        # role, list
        ("get", "/api/v1/moderation/queue", {200, 401, 403, 422}),
        # results before they are out: 403 for staff on a public operation
        ("get", "/api/v1/rounds/{round_id}/results", {200, 401, 403, 404}),
        ("put", "/api/v1/rounds/{round_id}/ballot", {200, 400, 401, 403, 404, 409, 413, 415, 422}),
    ],
)
def test_operations_document_their_error_answers(spec, method, path, codes):
    responses = spec["paths"][path][method]["responses"]
    documented = {int(code) for code in responses if code.isdigit()}
    assert codes <= documented, f"{method.upper()} {path} misses {sorted(codes - documented)}"
    for code in documented:
        if code >= 400:
            content = resolved(spec, responses[str(code)])["content"]["application/json"]
            assert content["schema"] == ERROR_REF, (path, code)


def test_reading_and_own_session_routes_do_not_claim_403(spec):
    """403 comes from a role or from a block; a plain read and following an idea have neither."""
    assert "403" not in spec["paths"]["/api/v1/me"]["get"]["responses"]
    assert "403" not in spec["paths"]["/api/v1/ideas/{idea_id}/follow"]["put"]["responses"]
    assert "403" in spec["paths"]["/api/v1/me"]["patch"]["responses"]


def test_error_schema_is_the_shape_of_every_error(spec, client):
    schema = spec["components"]["schemas"]["Error"]
    assert set(schema["required"]) == {"code", "status", "message", "errors"}
    assert schema["properties"]["errors"]["additionalProperties"] == {"type": "array", "items": {"type": "string"}}
    body = client.post("/api/v1/auth/login", json={"email": "x"}).get_json()
    assert set(body) == set(schema["properties"])
    assert "Retry-After" in spec["components"]["responses"]["TooManyRequests"]["headers"]


def test_description_explains_login_errors_languages_idempotency_and_cursors(spec):
    text = spec["info"]["description"]
    for needle in (
        "POST /api/v1/auth/login",
        "Authorization: Bearer <access_token>",
        "refresh_token",
        "15 minutes",
        "30 days",
        '"errors"',
        "Accept-Language: de",
        "Idempotency-Key",
        "next_cursor",
    ):
        assert needle in text, needle
