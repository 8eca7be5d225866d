"""One structured log line per request: request id, method, route, status, duration.

No client addresses, e-mail addresses, tokens or query strings: the route pattern is logged
instead of the path, so ids and search terms stay out of the logs too.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
import time

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
        incoming = request.headers.get("X-Request-ID")
        g.request_id = incoming if incoming and _REQUEST_ID.match(incoming) else os.urandom(12).hex()

    @app.after_request
    def log_request(response):
        response.headers["X-Request-ID"] = getattr(g, "request_id", "-")
        if enabled:
            started = getattr(g, "started", None)
            duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
            rule = request.url_rule
            # Hand-built JSON: this runs on every request and json.dumps of a dict costs more.
            access_log.info(
                '{"request_id":"%s","method":"%s","route":%s,"status":%d,"duration_ms":%s}',
                g.get("request_id"),
                request.method,
                json.dumps(rule.rule if rule else "<unmatched>"),
                response.status_code,
                duration_ms,
            )
        return response
