"""Public answers encoded once per worker: the same bytes, a strong ETag and Cache-Control.

For answers that are the same for everybody and may lag the data by a bounded time: reference
data (districts, categories and bodies change only with `db upgrade`) and the report statistics
(counts a minute old tell a resident as much as fresh ones). The time-to-live bounds how long a
worker may serve an answer after the data changed; nothing here is needed by another request
to be correct, and each worker keeps its own copies.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from flask import current_app, json, request

TTL_SECONDS = 300
# Keys come from normalised queries, which a client can vary: the memory stays bounded.
MAX_ANSWERS = 1024
_answers: dict[tuple, tuple[float, bytes, str]] = {}


def _remember(key: tuple, hit: tuple[float, bytes, str], now: float) -> None:
    if key not in _answers and len(_answers) >= MAX_ANSWERS:
        for old_key, (expires, _body, _etag) in list(_answers.items()):
            if expires < now:
                _answers.pop(old_key, None)
        while len(_answers) >= MAX_ANSWERS:
            _answers.pop(next(iter(_answers)), None)
    _answers[key] = hit


def cached_json(key: tuple, build: Callable[[], object], ttl: float = TTL_SECONDS, max_age: int | None = None):
    """`build()` encoded as JSON, kept for `ttl` seconds under `key` (0: built every time);
    `If-None-Match` with the answer's ETag is 304 without a body. Clients and shared caches
    may keep it for `max_age` seconds (default: the ttl)."""
    now = time.monotonic()
    hit = _answers.get(key) if ttl > 0 else None
    if hit is None or hit[0] < now:
        body = json.dumps(build()).encode()
        hit = (now + ttl, body, hashlib.sha1(body).hexdigest()[:16])
        if ttl > 0:
            _remember(key, hit, now)
    _expires, body, etag = hit
    response = current_app.response_class(body, mimetype="application/json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={int(ttl if max_age is None else max_age)}"
    if request.if_none_match:
        return response.make_conditional(request)
    return response
