"""Answer helpers shared by every resource."""
from __future__ import annotations

from flask import Response, current_app, json


def json_response(data, status: int = 200, headers: dict | None = None) -> Response:
    """A JSON answer built from already-presented data (skips a second serialization pass)."""
    response = current_app.response_class(json.dumps(data), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def created(data, location: str) -> Response:
    return json_response(data, 201, {"Location": location})


def no_content() -> Response:
    return current_app.response_class(status=204)
