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
    own_handlers = list(access_log.handlers)
    # The usual set-up, one stream handler: lines go straight to its stream. Going through a
    # LogRecord cost a tenth of a small answer (measured: 30 us of a 400 us ballot).
    direct = own_handlers[0] if len(own_handlers) == 1 and type(own_handlers[0]) is logging.StreamHandler else None
    routes: dict[str | None, str] = {}

    def write(line: str) -> None:
        if direct is not None and access_log.handlers == own_handlers:
            handler = direct
            with handler.lock:
                handler.stream.write(line + "\n")
                handler.flush()
        else:
            access_log.info("%s", line)

    @app.before_request
    def start_timer():
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID")
        g.request_id = incoming if incoming and _REQUEST_ID.match(incoming) else os.urandom(12).hex()

    @app.after_request
    def log_request(response):
        response.headers["X-Request-ID"] = getattr(g, "request_id", "-")
        if app.config.get("REQUEST_LOG", True) and access_log.isEnabledFor(logging.INFO):
            started = getattr(g, "started", None)
            duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
            rule = request.url_rule
            pattern = rule.rule if rule else None
            route = routes.get(pattern)
            if route is None:
                route = routes[pattern] = json.dumps(pattern or "<unmatched>")
            # Hand-built JSON: this runs on every request and json.dumps of a dict costs more.
            write(
                f'{{"request_id":"{g.get("request_id")}","method":"{request.method}","route":{route},'
                f'"status":{response.status_code},"duration_ms":{"null" if duration_ms is None else duration_ms}}}'
            )
        return response
