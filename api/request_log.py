"""One structured log line per request: request id, method, route, status, duration.

No client addresses, e-mail addresses, tokens or query strings: the route pattern is logged
instead of the path, so ids and search terms stay out of the logs too.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, g, request

access_log = logging.getLogger("api.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def init_request_log(app: Flask) -> None:
    if not access_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_log.addHandler(handler)
        access_log.setLevel(logging.INFO)
        access_log.propagate = False
    enabled = app.config.get("REQUEST_LOG", True)

    @app.before_request
    def start_timer():
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def log_request(response):
        response.headers["X-Request-ID"] = getattr(g, "request_id", "-")
        if enabled:
            started = getattr(g, "started", None)
            duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
            access_log.info(
                json.dumps(
                    {
                        "request_id": g.get("request_id"),
                        "method": request.method,
                        "route": request.url_rule.rule if request.url_rule else "<unmatched>",
                        "status": response.status_code,
                        "duration_ms": duration_ms,
                    },
                    separators=(",", ":"),
                )
            )
        return response
