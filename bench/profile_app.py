"""Where does a request's time go? In-process profile of the app, no gunicorn, no network.

    .venv/bin/python bench/profile_app.py [--path /api/v1/districts] [-n 3000] [--cprofile]

Creates a fresh SQLite database in a temporary directory (or uses DATABASE_URL when given),
builds the app as production would (APP_ENV=production, request log on, written to a file),
and calls the WSGI app directly with a prebuilt environ, so the figures are the app's own
cost per request:

1. microseconds per request for the bare Flask ceiling app, /healthz and the given path,
   with the request log on and off;
2. the time spent in each before_request / after_request / teardown hook and in the view
   (wrapped with timers);
3. optionally (--cprofile) cProfile's top functions by own and cumulative time.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import secrets
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from functools import wraps
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.append(str(BENCH))  # after the project: bench/ holds modules named like packages


def per_request_us(app, path: str, n: int, headers: dict | None = None) -> float:
    from werkzeug.test import EnvironBuilder

    env = EnvironBuilder(path=path, method="GET", headers=headers or {},
                         environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()

    def start_response(status, hdrs, exc_info=None):  # noqa: ARG001
        start_response.status = status

    def once():
        body = app(dict(env), start_response)
        for _ in body:
            pass
        if hasattr(body, "close"):
            body.close()

    for _ in range(200):
        once()
    if not start_response.status.startswith("200"):
        raise SystemExit(f"{path} answered {start_response.status}")
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(n):
            once()
        best = min(best, (time.perf_counter() - t0) / n * 1e6)
    return best


def make_app(request_log: bool, logfile: Path):
    os.environ["REQUEST_LOG"] = "1" if request_log else "0"
    # The request log handler writes to sys.stderr as it is when the app is created.
    saved = sys.stderr
    sys.stderr = logfile.open("a")
    try:
        import logging

        logging.getLogger("api.access").handlers.clear()
        from api import create_app

        return create_app()
    finally:
        sys.stderr = saved


def _name(f) -> str:
    inner = getattr(f, "func", f)  # functools.partial
    return f"{getattr(inner, '__module__', '?')}.{getattr(inner, '__qualname__', repr(inner))}"


def hook_timings(app, path: str, n: int) -> dict[str, float]:
    """Wrap every hook and the views with timers; return microseconds per request each."""
    totals: dict[str, float] = defaultdict(float)

    def timed(name, func):
        @wraps(func)
        def wrapper(*a, **kw):
            t0 = time.perf_counter()
            try:
                return func(*a, **kw)
            finally:
                totals[name] += time.perf_counter() - t0

        return wrapper

    for bp, funcs in app.before_request_funcs.items():
        app.before_request_funcs[bp] = [timed(f"before_request {_name(f)}", f) for f in funcs]
    for bp, funcs in app.after_request_funcs.items():
        app.after_request_funcs[bp] = [timed(f"after_request {_name(f)}", f) for f in funcs]
    app.teardown_appcontext_funcs[:] = [timed(f"teardown {_name(f)}", f)
                                        for f in app.teardown_appcontext_funcs]
    for bp, funcs in app.teardown_request_funcs.items():
        app.teardown_request_funcs[bp] = [timed(f"teardown_request {_name(f)}", f) for f in funcs]
    for ep, func in list(app.view_functions.items()):
        app.view_functions[ep] = timed(f"view {ep}", func)
    # Inside the views: JWT check, SQL, serialization.
    import flask_jwt_extended.view_decorators as vd
    import api.security as sec
    sec.verify_jwt_in_request = timed("  in view: verify_jwt_in_request", vd.verify_jwt_in_request)
    from sqlalchemy.orm import Session
    Session.scalars = timed("  in view: Session.scalars (SQL + ORM)", Session.scalars)
    Session.execute = timed("  in view: Session.execute (SQL)", Session.execute)
    import marshmallow
    marshmallow.Schema.dump = timed("  in view: marshmallow Schema.dump", marshmallow.Schema.dump)
    import flask
    flask.json.provider.DefaultJSONProvider.response = timed(
        "  in view: json response (dumps)", flask.json.provider.DefaultJSONProvider.response)
    totals.clear()
    per_request_us(app, path, n)
    totals.clear()
    t0 = time.perf_counter()
    per_request_us(app, path, n)  # 200 warm-up + 3*n
    calls = 200 + 3 * n
    wall = (time.perf_counter() - t0) / calls * 1e6
    out = {k: v / calls * 1e6 for k, v in totals.items()}
    out["(whole request, timed)"] = wall
    return out


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--path", default="/api/v1/districts")
    p.add_argument("-n", type=int, default=3000)
    p.add_argument("--cprofile", action="store_true")
    args = p.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'app.db'}")
    os.environ["JWT_SECRET_KEY"] = secrets.token_urlsafe(48)
    # Production refuses to start without Redis (shared throttle counters).
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    flask = str(Path(sys.executable).with_name("flask"))
    subprocess.run([flask, "--app", "wsgi", "db", "upgrade"], cwd=REPO, check=True,
                   env=dict(os.environ, APP_ENV="development"), stdout=subprocess.DEVNULL)
    os.environ["APP_ENV"] = "production"
    logfile = tmp / "requests.log"
    print(f"database {os.environ['DATABASE_URL']}; request log -> {logfile}\n")

    import bare_app

    app_log = make_app(True, logfile)
    app_nolog = make_app(False, logfile)
    n = args.n
    rows = [
        ("bare Flask ceiling (constant JSON)", per_request_us(bare_app.app, "/", n)),
        ("app /healthz, request log on", per_request_us(app_log, "/healthz", n)),
        ("app /healthz, request log off", per_request_us(app_nolog, "/healthz", n)),
        (f"app {args.path}, request log on", per_request_us(app_log, args.path, n)),
        (f"app {args.path}, request log off", per_request_us(app_nolog, args.path, n)),
    ]
    print("microseconds per request (in-process WSGI call, best of 3 x n):")
    for name, us in rows:
        print(f"  {us:8.1f} us  {name}")

    print(f"\nper hook, {args.path}, request log on (us per request):")
    app_t = make_app(True, logfile)
    for name, us in sorted(hook_timings(app_t, args.path, n).items(), key=lambda kv: -kv[1]):
        if us >= 0.5:
            print(f"  {us:8.1f} us  {name}")

    if args.cprofile:
        app_p = make_app(True, logfile)
        per_request_us(app_p, args.path, 200)
        prof = cProfile.Profile()
        prof.enable()
        per_request_us(app_p, args.path, n)
        prof.disable()
        for key in ("tottime", "cumulative"):
            s = io.StringIO()
            pstats.Stats(prof, stream=s).sort_stats(key).print_stats(35)
            print(f"\ncProfile by {key} ({200 + 3 * n} requests):")
            print("\n".join(s.getvalue().splitlines()[6:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
