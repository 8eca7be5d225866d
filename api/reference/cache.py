"""Reference data answers, encoded once per worker and language.

Districts, categories and bodies change only with `db upgrade`, yet the app asks for them on
every start and screen. A short time-to-live bounds how long a worker may serve an answer
after the data changed; nothing here is needed by another request to be correct.
"""
from __future__ import annotations

import hashlib
import time
from typing import Callable

from flask import current_app, json, request

TTL_SECONDS = 300
_answers: dict[tuple, tuple[float, bytes, str]] = {}


def cached_json(key: tuple, build: Callable[[], object]):
    now = time.monotonic()
    hit = _answers.get(key)
    if hit is None or hit[0] < now:
        body = json.dumps(build()).encode()
        hit = (now + TTL_SECONDS, body, hashlib.sha1(body).hexdigest()[:16])
        _answers[key] = hit
    _expires, body, etag = hit
    response = current_app.response_class(body, mimetype="application/json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={TTL_SECONDS}"
    if request.if_none_match:
        return response.make_conditional(request)
    return response
