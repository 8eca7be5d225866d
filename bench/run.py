"""Load benchmarks: the app under gunicorn against a bare-Flask ceiling, driven by wrk.

    .venv/bin/python bench/run.py                      # every scenario, full settings (make bench)
    .venv/bin/python bench/run.py --only foundation    # one scenario (others' figures are kept)
    .venv/bin/python bench/run.py --only districts     # endpoints with this label, any scenario
    .venv/bin/python bench/run.py --quick              # smoke test: 3 s, 1 s warm-up, 1 repeat

For each invocation: the ceiling (`bench/bare_app.py`) and, per scenario, the app (`wsgi:app`,
fresh database in a temporary directory) run under gunicorn with identical settings on
127.0.0.1. Each endpoint is first checked with one request (expected status, else the run
fails), then driven with `wrk -t1 -c8 --latency`: one warm-up, then N measured runs; the run
with the most requests/s counts. Results go to bench/results.json (one row per
scenario/endpoint, each with its own timestamp and command) and are rendered to
bench/RESULTS.md, so running one scenario keeps the others' rows.

All servers are stopped at the end, also on Ctrl-C and errors; PostgreSQL scenarios create
a database `bench_<random>` and drop it. The temporary directory (databases, server logs)
is removed after a clean run and kept (its path printed) when something went wrong or with
--keep.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fnmatch
import json
import os
import platform
import re
import secrets
import shlex
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from scenarios import SCENARIOS, Cli, Endpoint, Py, Scenario, Sh, User  # noqa: E402

DEFAULT_PG_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
HOST = "127.0.0.1"
STORE_VERSION = 1


class BenchError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ============================================================================ options
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="run only matching scenarios/endpoints: a scenario name, an endpoint label, "
                        "'scenario/label', or a glob of these (repeatable)")
    p.add_argument("--duration", type=float, default=15.0, help="seconds per measured wrk run (default 15)")
    p.add_argument("--warmup", type=float, default=5.0, help="seconds of warm-up per endpoint (default 5; 0 = none)")
    p.add_argument("--repeat", type=int, default=3, help="measured runs per endpoint; the best counts (default 3)")
    p.add_argument("--quick", action="store_true", help="smoke test: --duration 3 --warmup 1 --repeat 1")
    p.add_argument("--output", type=Path, default=BENCH / "RESULTS.md", help="markdown report (default bench/RESULTS.md)")
    p.add_argument("--store", type=Path, default=None,
                   help="JSON results store the report is rendered from (default: results.json beside --output)")
    p.add_argument("--connections", type=int, default=8, help="wrk -c (default 8)")
    p.add_argument("--threads", type=int, default=1, help="wrk -t (default 1)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers, app and ceiling alike (default 2)")
    p.add_argument("--worker-class", default="sync", help="gunicorn worker class, app and ceiling alike (default sync)")
    p.add_argument("--worker-threads", type=int, default=1, help="gunicorn --threads (gthread), app and ceiling alike")
    p.add_argument("--pg-server", default=os.environ.get("BENCH_PG_SERVER", DEFAULT_PG_SERVER),
                   help="PostgreSQL server for postgres scenarios (a fresh bench_<random> database is made there)")
    p.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS),
                   help="REDIS_URL for the app as in production, if reachable ('' = none)")
    p.add_argument("--time-limit", type=float, default=3600.0, help="abort the whole run after this many seconds")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (databases, server logs)")
    p.add_argument("--list", action="store_true", help="list scenarios and endpoints, then exit")
    p.add_argument("--fail-on-target", action="store_true", help="exit 3 when a measured endpoint misses its target")
    args = p.parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.repeat = 3.0, 1.0, 1
    if args.store is None:
        args.store = args.output.with_name("results.json")
    if args.repeat < 1 or args.duration <= 0:
        p.error("--repeat must be >= 1 and --duration > 0")
    return args


def exact_command(argv: list[str]) -> str:
    exe = Path(sys.executable)
    if exe.is_relative_to(REPO):  # .venv/bin/python, as `make bench` says it
        exe = exe.relative_to(REPO)
    script = Path(sys.argv[0]).resolve()
    if script.is_relative_to(REPO):
        script = script.relative_to(REPO)
    return " ".join(shlex.quote(str(x)) for x in [exe, script, *argv])


def select(args: argparse.Namespace) -> list[tuple[Scenario, list[Endpoint]]]:
    chosen = []
    for sc in SCENARIOS:
        if not args.only:
            chosen.append((sc, list(sc.endpoints)))
            continue
        if any(fnmatch.fnmatchcase(sc.name, pat) for pat in args.only):
            chosen.append((sc, list(sc.endpoints)))
            continue
        eps = [e for e in sc.endpoints
               if any(fnmatch.fnmatchcase(e.label, pat) or fnmatch.fnmatchcase(f"{sc.name}/{e.label}", pat)
                      or fnmatch.fnmatchcase(e.path, pat) for pat in args.only)]
        if eps:
            chosen.append((sc, eps))
    return chosen


# ============================================================================ processes
class Cleanup:
    """Everything started is registered here and undone in reverse order."""

    def __init__(self) -> None:
        self._undo: list[tuple[str, Any]] = []

    def push(self, what: str, func) -> None:
        self._undo.append((what, func))

    def remove(self, func) -> None:
        self._undo = [(w, f) for (w, f) in self._undo if f is not func]

    def run(self) -> None:
        while self._undo:
            what, func = self._undo.pop()
            try:
                func()
            except BaseException as exc:  # noqa: BLE001 - keep cleaning up
                print(f"[bench] cleanup of {what} failed: {exc!r}", file=sys.stderr)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            # gunicorn: SIGTERM to the master = graceful shutdown of master and workers.
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        # The server runs in its own session (pgid == its pid): make sure no worker survives.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])

    def count_log_errors(self) -> int:
        """Tracebacks and gunicorn error lines (worker timeouts, crashes) in the server log."""
        n = 0
        try:
            with self.log_path.open(errors="replace") as fh:
                for line in fh:
                    if line.startswith("Traceback") or "[ERROR]" in line or "[CRITICAL]" in line:
                        n += 1
        except OSError:
            pass
        return n


_HELP: dict[str, str] = {}


def _gunicorn_has(flag: str) -> bool:
    if "gunicorn" not in _HELP:
        exe = str(Path(sys.executable).with_name("gunicorn"))
        _HELP["gunicorn"] = subprocess.run([exe, "--help"], capture_output=True, text=True).stdout
    return flag in _HELP["gunicorn"]


def gunicorn_argv(args: argparse.Namespace, port: int) -> list[str]:
    """The one gunicorn command line for app and ceiling (only the WSGI target differs)."""
    argv = [
        str(Path(sys.executable).with_name("gunicorn")),
        "--bind", f"{HOST}:{port}",
        "--workers", str(args.workers),
        "--worker-class", args.worker_class,
        "--error-logfile", "-",  # stderr, which goes to a log file in the temporary directory
        "--log-level", "info",
        "--timeout", "60",
    ]
    if _gunicorn_has("--no-control-socket"):
        # Newer gunicorn opens a control socket in ~/.gunicorn, shared by every server there.
        argv.append("--no-control-socket")
    if args.worker_threads > 1:
        argv += ["--threads", str(args.worker_threads)]
    # gunicorn's access log is off unless --access-logfile is given: off for both.
    return argv


def start_server(name: str, target: str, chdir: Path, env: dict[str, str], args, workdir: Path,
                 cleanup: Cleanup, probe_path: str) -> Server:
    port = free_port()
    log_path = workdir / f"{name}.log"
    argv = gunicorn_argv(args, port) + ["--chdir", str(chdir), target]
    log(f"starting {name}: {' '.join(shlex.quote(a) for a in argv)}  (stderr -> {log_path})")
    fh = log_path.open("wb")
    proc = subprocess.Popen(argv, cwd=str(chdir), env=env, stdout=fh, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    fh.close()
    server = Server(name, port, proc, log_path)
    cleanup.push(f"server {name}", server.stop)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{name} exited with {proc.returncode} during start-up:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.base + probe_path, timeout=2) as r:
                r.read()
                break
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    else:
        raise BenchError(f"{name} did not answer {probe_path} within 60 s:\n{server.log_tail()}")
    # Every worker should have booted before measuring (not only the first one to answer).
    t_end = time.monotonic() + 30
    while time.monotonic() < t_end:
        booted = server.log_path.read_text(errors="replace").count("Booting worker")
        if booted >= args.workers:
            break
        time.sleep(0.2)
    return server


# ============================================================================ databases, setup
@dataclass
class Context:
    scenario: Scenario
    workdir: Path
    database_url: str
    env: dict[str, str]
    vars: dict[str, str] = field(default_factory=dict)
    users: dict[str, tuple[str, str]] = field(default_factory=dict)  # role -> (email, password)
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # role -> (token, obtained)


def pg_url_for(server_url: str, dbname: str) -> str:
    base = server_url.rsplit("/", 1)[0]
    return f"{base}/{dbname}"


def pg_admin(server_url: str, sql: str) -> None:
    import psycopg  # in the project's venv

    with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def create_database(sc: Scenario, args, workdir: Path, cleanup: Cleanup) -> str:
    if sc.database == "sqlite":
        return f"sqlite:///{workdir / (sc.name + '.db')}"
    dbname = f"bench_{secrets.token_hex(4)}"
    try:
        pg_admin(args.pg_server, f'CREATE DATABASE "{dbname}"')
    except Exception as exc:  # noqa: BLE001
        raise BenchError(f"cannot create PostgreSQL database on {args.pg_server}: {exc}") from exc
    log(f"created PostgreSQL database {dbname}")

    def drop():
        pg_admin(args.pg_server, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        log(f"dropped PostgreSQL database {dbname}")

    cleanup.push(f"database {dbname}", drop)
    return pg_url_for(args.pg_server, dbname)


def redis_reachable(url: str) -> bool:
    m = re.match(r"redis://(?:[^@/]*@)?([^:/]+)(?::(\d+))?", url or "")
    if not m:
        return False
    try:
        with socket.create_connection((m.group(1), int(m.group(2) or 6379)), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "APP_ENV", "JWT_SECRET_KEY", "REQUEST_LOG", "FLASK_APP")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    return env


def run_setup(ctx: Context, deadline: float) -> None:
    flask = [str(Path(sys.executable).with_name("flask")), "--app", "wsgi"]
    # Setup runs as development: `demo seed` refuses production; the server runs as production.
    env = dict(ctx.env, APP_ENV="development", FLASK=" ".join(flask), PY=sys.executable,
               WORKDIR=str(ctx.workdir), REPO=str(REPO))
    for step in ctx.scenario.setup:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise BenchError("time limit reached during setup")
        log(f"  setup: {step.describe()}")
        t0 = time.monotonic()
        if isinstance(step, Py):
            step.func(ctx)
        else:
            if isinstance(step, Cli):
                argv, timeout = flask + list(step.args), step.timeout
            elif isinstance(step, Sh):
                argv, timeout = ["bash", "-euo", "pipefail", "-c", step.command], step.timeout
            elif isinstance(step, User):
                email = step.email or f"bench-{step.role}@example.org"
                ctx.users[step.role] = (email, step.password)
                argv, timeout = flask + ["users", "create", "--email", email, "--password", step.password,
                                         "--role", step.role], 300
            else:  # pragma: no cover
                raise BenchError(f"unknown setup step {step!r}")
            out_path = ctx.workdir / f"{ctx.scenario.name}-setup.log"
            with out_path.open("ab") as fh:
                fh.write(f"$ {' '.join(shlex.quote(a) for a in argv)}\n".encode())
                fh.flush()
                try:
                    rc = subprocess.run(argv, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, timeout=min(timeout, remaining)).returncode
                except subprocess.TimeoutExpired as exc:
                    raise BenchError(f"setup step timed out: {step.describe()}") from exc
            if rc != 0:
                tail = "\n".join(out_path.read_text(errors="replace").splitlines()[-30:])
                raise BenchError(f"setup step failed ({rc}): {step.describe()}\n{tail}")
        log(f"    done in {time.monotonic() - t0:.1f} s")


# ============================================================================ HTTP and wrk
def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None,
         timeout: float = 10) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def token_for(ctx: Context, role: str, server: Server) -> str:
    tok = ctx.tokens.get(role)
    if tok and time.monotonic() - tok[1] < 300:  # access tokens live 15 minutes
        return tok[0]
    email, password = ctx.users[role]
    status, raw = http("POST", server.base + "/api/v1/auth/login",
                       json.dumps({"email": email, "password": password}).encode(),
                       {"Content-Type": "application/json"})
    if status != 200:
        raise BenchError(f"login as {role} ({email}) answered {status}: {raw[:300]!r}")
    token = json.loads(raw)["access_token"]
    ctx.tokens[role] = (token, time.monotonic())
    return token


def substitute(text: str, values: dict[str, str]) -> str:
    return string.Template(text).safe_substitute(values)


def lua_quote(s: str) -> str:
    """A Lua string literal for any text (bytes outside printable ASCII as decimal escapes)."""
    out = []
    for b in s.encode():
        ch = chr(b)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 32 <= b < 127:
            out.append(ch)
        else:
            out.append(f"\\{b:03d}")
    return '"' + "".join(out) + '"'


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    lua: str | None  # wrk script text, if one is needed


def build_request(ep: Endpoint, ctx: Context | None, server: Server) -> Request:
    values = dict(ctx.vars) if ctx else {}
    headers = dict(ep.headers)
    if ep.auth:
        assert ctx is not None
        token = token_for(ctx, ep.auth, server)
        values["token"] = token
        headers["Authorization"] = f"Bearer {token}"
    path = substitute(ep.path, values)
    values.update(path=path, method=ep.method)
    body: bytes | None = None
    if ep.body is not None:
        text = ep.body if isinstance(ep.body, str) else json.dumps(ep.body, separators=(",", ":"))
        body = substitute(text, values).encode()
        headers.setdefault("Content-Type", ep.content_type)
    lua = None
    if ep.lua is not None:
        lua = substitute(ep.lua, values)
    elif ep.method != "GET" or body is not None:
        lines = [f"wrk.method = {lua_quote(ep.method)}"]
        if body is not None:
            lines.append(f"wrk.body = {lua_quote(body.decode())}")
        for k, v in headers.items():
            lines.append(f"wrk.headers[{lua_quote(k)}] = {lua_quote(v)}")
        lua = "\n".join(lines) + "\n"
    return Request(ep.method, path, headers, body, lua)


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise BenchError(f"cannot read wrk latency {text!r}")
    return float(m.group(1)) * _UNIT_MS[m.group(2)]


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non2xx: int
    socket_errors: dict[str, int]
    raw: str


def parse_wrk(out: str) -> WrkResult:
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise BenchError(f"wrk output without Requests/sec:\n{out}")
    rps = float(m.group(1))
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    if not (p50 and p99):
        raise BenchError(f"wrk output without latency distribution (--latency):\n{out}")
    n = re.search(r"(\d+) requests in", out)
    non = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = dict(zip(("connect", "read", "write", "timeout"), map(int, sock.groups()))) if sock else {}
    return WrkResult(rps, _ms(p50.group(1)), _ms(p99.group(1)), int(n.group(1)) if n else 0,
                     int(non.group(1)) if non else 0, errors, out)


def wrk_argv(args, seconds: float, url: str, headers: dict[str, str], script: Path | None) -> list[str]:
    argv = [shutil.which("wrk") or "/usr/bin/wrk", f"-t{args.threads}", f"-c{args.connections}",
            f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "5s"]
    if script is None:  # with a script, headers are set there
        for k, v in headers.items():
            argv += ["-H", f"{k}: {v}"]
    else:
        argv += ["-s", str(script)]
    return argv + [url]


def drive(args, server: Server, req: Request, workdir: Path, tag: str, deadline: float) -> dict:
    """Warm-up, then args.repeat measured runs; returns the best (by requests/s) and all runs."""
    script = None
    if req.lua is not None:
        script = workdir / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', tag)}.lua"
        script.write_text(req.lua)
    url = server.base + req.path

    def once(seconds: float) -> WrkResult:
        if time.monotonic() + seconds + 5 > deadline:
            raise BenchError("time limit reached (--time-limit)")
        argv = wrk_argv(args, seconds, url, req.headers, script)
        try:
            cp = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise BenchError(f"wrk did not finish: {' '.join(argv)}") from exc
        # wrk reports a broken Lua script on stderr and then carries on with plain GETs.
        if cp.returncode != 0 or (script is not None and str(script) + ":" in cp.stderr + cp.stdout):
            raise BenchError(f"wrk failed ({cp.returncode}): {' '.join(argv)}\n{cp.stdout}\n{cp.stderr}")
        if server.proc.poll() is not None:
            raise BenchError(f"{server.name} died under load:\n{server.log_tail()}")
        return parse_wrk(cp.stdout)

    if args.warmup > 0:
        w = once(args.warmup)
        log(f"    warm-up {args.warmup:g} s: {w.rps:,.0f} req/s")
    runs = []
    for i in range(args.repeat):
        r = once(args.duration)
        runs.append(r)
        flag = f"  non-2xx {r.non2xx}" if r.non2xx else ""
        errs = sum(r.socket_errors.values())
        flag += f"  socket errors {r.socket_errors}" if errs else ""
        log(f"    run {i + 1}/{args.repeat}: {r.rps:,.0f} req/s  p50 {r.p50_ms:.2f} ms  p99 {r.p99_ms:.2f} ms{flag}")
    best = max(runs, key=lambda r: r.rps)
    shown = wrk_argv(args, args.duration, url, {k: ("Bearer <token>" if k == "Authorization" else v)
                                               for k, v in req.headers.items()}, script)
    return {
        "rps": round(best.rps, 1),
        "p50_ms": round(best.p50_ms, 3),
        "p99_ms": round(best.p99_ms, 3),
        "requests": best.requests,
        "non2xx": sum(r.non2xx for r in runs),
        "socket_errors": sum(sum(r.socket_errors.values()) for r in runs),
        "runs_rps": [round(r.rps, 1) for r in runs],
        "wrk": " ".join(shlex.quote(a) for a in shown).replace(str(workdir), "$TMP"),
        "lua": req.lua.replace(req.headers.get("Authorization", "\0"), "Bearer <token>") if req.lua else None,
    }


def precheck(server: Server, req: Request, expect: int, what: str) -> None:
    status, raw = http(req.method, server.base + req.path, req.body, req.headers)
    if status != expect:
        raise BenchError(f"{what}: {req.method} {req.path} answered {status}, expected {expect}: {raw[:500]!r}\n"
                         f"server log ({server.log_path}):\n{server.log_tail()}")
    log(f"  check {req.method} {req.path} -> {status} ({len(raw)} bytes)")


# ============================================================================ machine, store, report
def machine_info(args) -> dict:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip() or str(os.cpu_count())
    mem = ""
    with contextlib.suppress(OSError):
        kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"

    def version(argv):
        try:
            cp = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (cp.stdout or cp.stderr).strip().splitlines()[0]
        except (OSError, subprocess.TimeoutExpired, IndexError):
            return "?"

    commit = version(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain"], capture_output=True, text=True).stdout
    return {
        "nproc": nproc,
        "cpu": cpu,
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "gunicorn": version([str(Path(sys.executable).with_name("gunicorn")), "--version"]).replace("(version ", "").rstrip(")"),
        "wrk": version(["wrk", "-v"]).split(" Copyright")[0].removeprefix("wrk ").strip(),
        "loadavg_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "commit": commit + ("+uncommitted" if dirty.strip() else ""),
    }


def load_store(path: Path) -> dict:
    if path.exists():
        try:
            data = json.loads(path.read_text())
            if data.get("version") == STORE_VERSION:
                return data
        except (OSError, ValueError):
            pass
    return {"version": STORE_VERSION, "ceilings": {}, "rows": {}}


def save_store(path: Path, store: dict) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(store, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)


def _f(x, fmt="{:,.0f}") -> str:
    return "–" if x is None else fmt.format(x)


def verdict(row: dict) -> str:
    if row.get("error"):
        return "ERROR"
    problems = []
    if row.get("non2xx"):
        problems.append(f"{row['non2xx']} non-2xx")
    if row.get("socket_errors"):
        problems.append(f"{row['socket_errors']} socket errors")
    if row.get("server_errors"):
        problems.append(f"{row['server_errors']} server log errors")
    targets = []
    if row.get("target_ratio") is not None:
        targets.append(row["ratio"] is not None and row["ratio"] >= row["target_ratio"])
    if row.get("target_p99_ms") is not None:
        targets.append(row["p99_ms"] <= row["target_p99_ms"])
    if row.get("within_of") and row.get("relative") is not None:
        targets.append(row["relative"] <= row["within_of"][1])
    if problems:
        return "**FAIL** (" + ", ".join(problems) + ")"
    if not targets:
        return "–"
    return "pass" if all(targets) else "**FAIL**"


def render(store: dict, path: Path) -> None:
    rows = store["rows"]
    ceilings = store["ceilings"]
    out = [
        "# Load benchmarks",
        "",
        "Written by `bench/run.py` (`make bench`) from `bench/results.json`; do not edit by hand. Each row",
        "keeps the figures, timestamp and command of the run that measured it, so running one scenario",
        "(`--only NAME`) leaves the others' rows as they were.",
        "",
        "Method: the app (`wsgi:app`, `APP_ENV=production`, request log on, fresh database per scenario) and",
        "the **ceiling** — `bench/bare_app.py`, a bare Flask app answering a constant JSON document — run",
        "under gunicorn with identical settings on 127.0.0.1 and are driven by `wrk --latency` from the same",
        "machine: one warm-up, then N measured runs, the run with the most requests/s counts. **ratio** =",
        "requests/s ÷ the ceiling measured in the same invocation. p50/p99 are wrk's latency percentiles of",
        "that best run. Rows from `--quick` runs are smoke tests, not measurements.",
        "",
    ]
    by_scenario: dict[str, list[dict]] = {}
    for key in sorted(rows, key=lambda k: (rows[k]["scenario_order"], rows[k]["endpoint_order"])):
        by_scenario.setdefault(rows[key]["scenario"], []).append(rows[key])
    for name, srows in by_scenario.items():
        by_label = {r["label"]: r for r in srows}
        for r in srows:
            # "within 1.2× of": the reference endpoint's requests/s over this one's.
            # A label of this scenario, or "scenario/label" of another one's row.
            ref_label = r["within_of"][0] if r.get("within_of") else None
            ref = by_label.get(ref_label, rows.get(ref_label)) if ref_label else None
            r["relative"] = round(ref["rps"] / r["rps"], 3) if ref and ref.get("rps") and r.get("rps") else None
        first = srows[0]
        out += [f"## {name} ({first['database']})", ""]
        if first.get("description"):
            out += [first["description"], ""]
        out += [
            "| endpoint | requests/s | p50 ms | p99 ms | ceiling req/s | ratio | target | result | non-2xx | measured | settings |",
            "|---|---:|---:|---:|---:|---:|---|---|---:|---|---|",
        ]
        for r in srows:
            target = []
            if r.get("target_ratio") is not None:
                target.append(f"≥ {r['target_ratio']:g} × ceiling")
            if r.get("target_p99_ms") is not None:
                target.append(f"p99 ≤ {r['target_p99_ms']:g} ms")
            if r.get("within_of"):
                measured = f" (measured {r['relative']:.2f}×)" if r.get("relative") is not None else ""
                target.append(f"within {r['within_of'][1]:g}× of “{r['within_of'][0]}”{measured}")
            auth = f" (as {r['auth']})" if r.get("auth") else ""
            settings = f"{r['settings']['duration']:g} s × {r['settings']['repeat']}" + (" **quick**" if r["settings"].get("quick") else "")
            out.append(
                f"| `{r['method']} {r['path']}`{auth} | {_f(r.get('rps'))} | {_f(r.get('p50_ms'), '{:.2f}')} | "
                f"{_f(r.get('p99_ms'), '{:.2f}')} | {_f(r.get('ceiling_rps'))} | {_f(r.get('ratio'), '{:.2f}')} | "
                f"{', '.join(target) or '–'} | {verdict(r)} | {r.get('non2xx', '–')} | {r['timestamp']} | {settings} |"
            )
        out.append("")
        cmds = sorted({r["command"] for r in srows})
        out += ["Command" + ("s" if len(cmds) > 1 else "") + ": " + ", ".join(f"`{c}`" for c in cmds), ""]
        out += ["<details><summary>wrk command lines, runs and machine</summary>", ""]
        for r in srows:
            runs = ", ".join(_f(x) for x in r.get("runs_rps", []))
            out.append(f"- `{r['label']}`: `{r.get('wrk', '')}` — runs: {runs} req/s; ceiling run of "
                       f"{r['ceiling_timestamp']}; load average afterwards {r.get('loadavg_after', '?')}")
            if r.get("lua"):
                out += ["", "  ```lua", *("  " + ln for ln in r["lua"].rstrip().splitlines()), "  ```"]
        m = first["machine"]
        out += ["", f"- machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']}, {m['os']}; Python {m['python']}; "
                    f"{m['gunicorn']}; wrk {m['wrk']}; load average before the run {m['loadavg_before']}; commit {m['commit']}",
                f"- gunicorn: {first['server']}", "", "</details>", ""]
    if ceilings:
        out += ["## Ceiling runs", "",
                "| measured | requests/s | p50 ms | p99 ms | runs req/s | gunicorn | command |",
                "|---|---:|---:|---:|---|---|---|"]
        for ts in sorted(ceilings, reverse=True)[:10]:
            c = ceilings[ts]
            out.append(f"| {ts} | {_f(c['rps'])} | {c['p50_ms']:.2f} | {c['p99_ms']:.2f} | "
                       f"{', '.join(_f(x) for x in c['runs_rps'])} | {c['server']} | `{c['command']}` |")
        out.append("")
    for extra in ("NOTIFICATIONS.md", "PUSH.md", "PHOTOS.md"):
        # Written by `make bench` from bench/drain.py, bench/push_fcm.py and bench/photos.py
        # (not wrk-driven); a document of its own (PHOTOS.md) becomes a section here.
        section = path.parent / extra
        if section.exists():
            lines = section.read_text().strip().splitlines()
            if lines and lines[0].startswith("# "):
                lines = ["#" + line if line.startswith("#") else line for line in lines]
            out += ["\n".join(lines), ""]
    tally = path.parent / "TALLY.md"
    if tally.exists():
        # Written by `make bench` from bench/tally.py (our tally process against pabutools).
        out += ["## Tally engine: `flask --app wsgi budgets tally` against pabutools", "", tally.read_text().strip(), ""]
    path.write_text("\n".join(out))


# ============================================================================ main
def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    chosen = select(args)
    if args.list:
        for sc, eps in chosen:
            print(f"{sc.name} ({sc.database})")
            for e in eps:
                print(f"  {e.label}: {e.method} {e.path}" + (f"  [auth {e.auth}]" if e.auth else ""))
        return 0
    if not chosen:
        print(f"no scenario or endpoint matches {args.only}", file=sys.stderr)
        return 2
    for tool in ("wrk",):
        if not shutil.which(tool):
            print(f"{tool} is not installed (apt-get install {tool})", file=sys.stderr)
            return 2

    command = exact_command(argv)
    started = time.monotonic()
    deadline = started + args.time_limit
    timestamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    machine = machine_info(args)
    settings = {"duration": args.duration, "warmup": args.warmup, "repeat": args.repeat, "quick": args.quick,
                "wrk_threads": args.threads, "connections": args.connections}
    server_desc = (f"{args.workers} × {args.worker_class}"
                   + (f" ({args.worker_threads} threads)" if args.worker_threads > 1 else "")
                   + f", bind {HOST}, no access log, stderr to a log file")
    store = load_store(args.store)
    scenario_order = {sc.name: i for i, sc in enumerate(SCENARIOS)}

    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    cleanup = Cleanup()
    ok = False
    target_missed = False

    def on_signal(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt(f"signal {signum}")

    # Also when started in the background (where SIGINT arrives ignored): Ctrl-C / kill -INT cleans up.
    old_int = signal.signal(signal.SIGINT, on_signal)
    old_term = signal.signal(signal.SIGTERM, on_signal)
    old_hup = signal.signal(signal.SIGHUP, on_signal)
    log(f"temporary directory {workdir}; {machine['nproc']} CPUs, load average {machine['loadavg_before']}")
    try:
        env0 = base_env()
        redis = args.redis_url if args.redis_url and redis_reachable(args.redis_url) else ""
        if args.redis_url and not redis:
            log(f"Redis not reachable at {args.redis_url}: the app runs without REDIS_URL")

        # ---- ceiling (same gunicorn settings)
        ceiling = start_server("ceiling", "bare_app:app", BENCH, env0, args, workdir, cleanup, "/")
        creq = Request("GET", "/api/v1/districts", {}, None, None)
        precheck(ceiling, creq, 200, "ceiling")
        log("ceiling: bare Flask app")
        cres = drive(args, ceiling, creq, workdir, "ceiling", deadline)
        ceiling_rps = cres["rps"]
        store["ceilings"][timestamp] = dict(cres, server=server_desc, command=command, settings=settings,
                                            server_errors=ceiling.count_log_errors())
        log(f"ceiling: {ceiling_rps:,.0f} req/s (p50 {cres['p50_ms']:.2f} ms, p99 {cres['p99_ms']:.2f} ms)")
        # The ceiling server keeps running (idle) while the scenarios are measured.

        for sc, endpoints in chosen:
            log(f"scenario {sc.name} ({sc.database}): {len(endpoints)} endpoint(s)")
            sc_cleanup_mark = len(cleanup._undo)
            url = create_database(sc, args, workdir, cleanup)
            env = dict(env0, DATABASE_URL=url, APP_ENV="production",
                       JWT_SECRET_KEY=secrets.token_urlsafe(48), REQUEST_LOG="1")
            if redis:
                env["REDIS_URL"] = redis
            env.update(sc.env)
            ctx = Context(sc, workdir, url, env)
            run_setup(ctx, deadline)
            app = start_server(f"app-{sc.name}", "wsgi:app", REPO, ctx.env, args, workdir, cleanup, "/healthz")
            # Check every endpoint answers as expected before measuring any of them.
            reqs = {}
            for ep in endpoints:
                reqs[ep.label] = build_request(ep, ctx, app)
                precheck(app, reqs[ep.label], ep.expect_status, f"{sc.name}/{ep.label}")
            for i, ep in enumerate(endpoints):
                log(f"  {sc.name}/{ep.label}: {ep.method} {ep.path}")
                req = build_request(ep, ctx, app)  # fresh token if the last one is getting old
                errors_before = app.count_log_errors()
                res = drive(args, app, req, workdir, f"{sc.name}-{ep.label}", deadline)
                ratio = round(res["rps"] / ceiling_rps, 3) if ceiling_rps else None
                row = dict(
                    res,
                    scenario=sc.name, label=ep.label, database=sc.database, description=sc.description,
                    method=ep.method, path=ep.path, auth=ep.auth,
                    scenario_order=scenario_order[sc.name], endpoint_order=sc.endpoints.index(ep),
                    ceiling_rps=ceiling_rps, ceiling_timestamp=timestamp, ratio=ratio,
                    target_ratio=ep.target_ratio, target_p99_ms=ep.target_p99_ms,
                    within_of=list(ep.within_of) if ep.within_of else None,
                    server_errors=app.count_log_errors() - errors_before,
                    timestamp=timestamp, command=command, settings=settings, machine=machine,
                    server=server_desc, redis=bool(ctx.env.get("REDIS_URL")),
                    loadavg_after=" ".join(f"{x:.2f}" for x in os.getloadavg()),
                )
                store["rows"][f"{sc.name}/{ep.label}"] = row
                v = verdict(row)
                if v not in ("pass", "–"):
                    target_missed = True
                log(f"  => {res['rps']:,.0f} req/s, ratio {ratio:.2f}, p50 {res['p50_ms']:.2f} ms, "
                    f"p99 {res['p99_ms']:.2f} ms: {v.replace('*', '')}")
                save_store(args.store, store)
                render(store, args.output)
            # Stop this scenario's server and drop its database before the next scenario.
            while len(cleanup._undo) > sc_cleanup_mark:
                what, func = cleanup._undo.pop()
                func()
        save_store(args.store, store)
        render(store, args.output)
        log(f"wrote {args.output} and {args.store} in {time.monotonic() - started:.0f} s")
        ok = True
    except KeyboardInterrupt as exc:
        print(f"\n[bench] interrupted ({exc or 'Ctrl-C'}); stopping everything", file=sys.stderr)
        return 130
    except BenchError as exc:
        print(f"\n[bench] FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the cleanup finish
        cleanup.run()
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGHUP, old_hup)
        if ok and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"[bench] kept {workdir} (server logs, databases, wrk scripts)", file=sys.stderr)
    if target_missed and args.fail_on_target:
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
