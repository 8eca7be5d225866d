"""Answer helpers shared by every resource."""
from __future__ import annotations

import orjson
from flask import Response, current_app


def json_response(data, status: int = 200, headers: dict | None = None) -> Response:
    """A JSON answer built from already-presented data (plain dicts, lists and strings).

    orjson encodes the busy list answers several times faster than the standard library.
    """
    response = current_app.response_class(orjson.dumps(data), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def created(data, location: str) -> Response:
    return json_response(data, 201, {"Location": location})


def no_content() -> Response:
    return current_app.response_class(status=204)
