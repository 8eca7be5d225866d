"""FCM gateway throughput: `FcmGateway.send` against `messaging.send_each` on the same mock.

    .venv/bin/python bench/push_fcm.py [--messages N] [--rounds R] [--append-results]

A small HTTP/1.1 server on 127.0.0.1 (its own process, so it does not share the client's
GIL) answers like FCM v1: the OAuth token endpoint and `messages:send` with
`{"name": "projects/p/messages/123"}`. HTTP/1.1 is what the SDK speaks here: the synchronous
`send_each` goes through `requests`, one thread per message (httpx/HTTP/2 only serves the
*_async functions). The SDK is pointed at the mock only inside this script: the fake
service account's `token_uri`, and the messaging service's private `_fcm_url` with an
adapter like the one the SDK mounts on https://fcm.googleapis.com (pool 100, its default
retries).

Both sides deliver the same personal notifications in calls of 500: "direct" calls
`messaging.send_each` on `messaging.Message`s built before the clock starts; "gateway"
calls `FcmGateway.send` on `PushMessage`s, so its time includes building the SDK messages,
chunking and mapping the answers. Rounds alternate direct, gateway, direct, ... to spread
the noise of a shared machine evenly.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import firebase_admin  # noqa: E402
import requests.adapters  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from firebase_admin import _http_client, messaging  # noqa: E402

from notifications import push  # noqa: E402
from notifications.push import FcmGateway, PushMessage  # noqa: E402

PROJECT = "p"
SEND_PATH = f"/v1/projects/{PROJECT}/messages:send"
CHUNK = push.SEND_EACH_LIMIT


# --- the mock FCM -------------------------------------------------------------------------------


class _FcmProtocol(asyncio.Protocol):
    """Just enough HTTP/1.1 (keep-alive, Content-Length bodies) to answer like FCM v1."""

    counts = {"send": 0, "token": 0, "other": 0}
    SEND = b'{"name": "projects/p/messages/123"}'
    TOKEN = b'{"access_token": "bench-token", "expires_in": 3600, "token_type": "Bearer"}'

    def connection_made(self, transport):
        self.transport = transport
        self.buffer = b""

    def data_received(self, data):
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].decode("latin-1")
            request_line, *header_lines = head.split("\r\n")
            length = 0
            for line in header_lines:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self.buffer) < head_end + 4 + length:
                return
            self.buffer = self.buffer[head_end + 4 + length :]
            method, path, _ = request_line.split(" ", 2)
            if method == "POST" and path == SEND_PATH:
                self.counts["send"] += 1
                self._answer(200, self.SEND)
            elif method == "POST" and path == "/token":
                self.counts["token"] += 1
                self._answer(200, self.TOKEN)
            elif method == "GET" and path == "/stats":
                self._answer(200, json.dumps(self.counts).encode())
            else:
                self.counts["other"] += 1
                self._answer(404, b'{"error": {"code": 404, "message": "not here", "status": "NOT_FOUND"}}')

    def _answer(self, status: int, body: bytes) -> None:
        reason = {200: "OK", 404: "Not Found"}[status]
        self.transport.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=UTF-8\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )


def _serve(sock: socket.socket) -> None:
    async def main():
        server = await asyncio.get_running_loop().create_server(_FcmProtocol, sock=sock, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def start_mock() -> tuple[str, multiprocessing.Process]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    port = sock.getsockname()[1]
    process = multiprocessing.get_context("fork").Process(target=_serve, args=(sock,), daemon=True)
    process.start()
    sock.close()  # the server process holds its own copy
    return f"http://127.0.0.1:{port}", process


def mock_stats(base: str) -> dict:
    with urllib.request.urlopen(f"{base}/stats", timeout=5) as answer:
        return json.load(answer)


# --- the client ---------------------------------------------------------------------------------


def fake_credential(directory: str, token_uri: str) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    path = os.path.join(directory, "bench-service-account.json")
    with open(path, "w", encoding="utf-8") as out:
        json.dump(
            {
                "type": "service_account",
                "project_id": PROJECT,
                "private_key_id": "bench",
                "private_key": pem,
                "client_email": f"bench@{PROJECT}.iam.gserviceaccount.com",
                "token_uri": token_uri,
            },
            out,
        )
    return path


def point_at_mock(gateway: FcmGateway, base: str) -> None:
    service = messaging._get_messaging_service(gateway.app)
    service._fcm_url = base + SEND_PATH
    adapter = requests.adapters.HTTPAdapter(pool_connections=100, pool_maxsize=100, max_retries=_http_client.DEFAULT_RETRY_CONFIG)
    service._client.session.mount(base, adapter)


def notifications(n: int) -> list[PushMessage]:
    return [
        PushMessage(
            token=f"bench-device-token-{i:07d}-" + "x" * 120,  # real tokens are ~150 characters
            title="Ihre Idee wurde beantwortet",
            body="Mehr Bänke am Phoenix-See",
            data={"type": "idea_response", "idea_id": str(i % 5000), "event_id": str(i)},
            collapse_key=f"idea-{i % 5000}",
            channel="idea_updates",
            thread_id=f"idea-{i % 5000}",
        )
        for i in range(n)
    ]


def run_direct(app, prebuilt: list) -> tuple[float, int]:
    started = time.perf_counter()
    ok = 0
    for start in range(0, len(prebuilt), CHUNK):
        ok += messaging.send_each(prebuilt[start : start + CHUNK], app=app).success_count
    return time.perf_counter() - started, ok


def run_gateway(gateway: FcmGateway, messages: list[PushMessage]) -> tuple[float, int]:
    started = time.perf_counter()
    outcomes = gateway.send(messages)
    return time.perf_counter() - started, sum(o.ok for o in outcomes)


# --- main ---------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000, help="notifications per side and round (default 100,000)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds per side, alternating (default 1)")
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument("--append-results", action="store_true", help="record the table in bench/PUSH.md (rendered into bench/RESULTS.md)")
    args = parser.parse_args(argv)

    base, server = start_mock()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            gateway = FcmGateway(fake_credential(tmp, base + "/token"))
            point_at_mock(gateway, base)
            messages = notifications(args.messages)
            prebuilt = [push._fcm_message(m, token=m.token) for m in messages]
            warm = notifications(args.warmup)
            run_gateway(gateway, warm)
            run_direct(gateway.app, [push._fcm_message(m, token=m.token) for m in warm])

            load_before = os.getloadavg()
            runs = {"direct": [], "gateway": []}
            for _ in range(args.rounds):
                for side in ("direct", "gateway"):
                    seconds, ok = run_direct(gateway.app, prebuilt) if side == "direct" else run_gateway(gateway, messages)
                    if ok != args.messages:
                        raise SystemExit(f"{side}: only {ok} of {args.messages} delivered")
                    runs[side].append(args.messages / seconds)
                    print(f"{side:8} {args.messages:,} messages in {seconds:6.1f} s = {args.messages / seconds:8,.0f}/s", flush=True)
            load_after = os.getloadavg()
            # The gateway's own work besides the SDK's: building the messages (chunking and
            # reading the outcomes are list slicing and a loop).
            started = time.perf_counter()
            [push._fcm_message(m, token=m.token) for m in messages]
            build_seconds = time.perf_counter() - started
            stats = mock_stats(base)
            gateway.close()
    finally:
        server.terminate()
        server.join(5)

    expected = (args.messages * args.rounds + args.warmup) * 2
    if stats["send"] != expected or stats["other"]:
        raise SystemExit(f"the mock saw {stats}, expected {expected} sends")
    best = {side: max(rates) for side, rates in runs.items()}
    ratio = best["gateway"] / best["direct"]
    table = render(args, runs, best, ratio, stats, load_before, load_after, build_seconds)
    print()
    print(table)
    if args.append_results:
        append_results(table)
    return 0 if ratio >= 0.8 else 1


HEADING = "## FCM gateway throughput (issue 9)"
ABOUT = (
    "100,000 personal notifications through `FcmGateway.send` against `messaging.send_each` called\n"
    "directly on the same pre-built messages, both through firebase-admin's real HTTP stack\n"
    "(requests, a thread per message, calls of 500) to a mock FCM v1 on 127.0.0.1 (`bench/push_fcm.py`).\n"
    "The mock answers at once, so this is the client's ceiling; real FCM adds its latency, which the\n"
    "500 threads per call overlap.\n"
)


def append_results(table: str) -> None:
    """Write bench/PUSH.md (`bench/run.py` renders it into bench/RESULTS.md), latest run first."""
    path = ROOT / "bench" / "PUSH.md"
    previous = path.read_text(encoding="utf-8").split(ABOUT, 1)[1].strip() if path.exists() and ABOUT in path.read_text(encoding="utf-8") else ""
    path.write_text(f"{HEADING}\n\n{ABOUT}\n{table.strip()}\n" + (f"\n{previous}\n" if previous else ""), encoding="utf-8")


def render(args, runs, best, ratio, stats, load_before, load_after, build_seconds) -> str:
    command = ".venv/bin/python bench/push_fcm.py" + (f" --messages {args.messages}" if args.messages != 100_000 else "")
    command += f" --rounds {args.rounds}" if args.rounds != 1 else ""
    command += f" --warmup {args.warmup}" if args.warmup != 2_000 else ""
    command += " --append-results" if args.append_results else ""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    measured = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    rates = lambda side: ", ".join(f"{r:,.0f}" for r in runs[side])  # noqa: E731
    return (
        f"| measured | side | messages per round | best messages/s | runs messages/s |\n"
        f"|---|---|---:|---:|---|\n"
        f"| {measured} | `messaging.send_each` directly (pre-built messages) | {args.messages:,} | {best['direct']:,.0f} | {rates('direct')} |\n"
        f"| {measured} | `FcmGateway.send` (PushMessage → Message, chunks, outcomes) | {args.messages:,} | {best['gateway']:,.0f} | {rates('gateway')} |\n"
        f"\n- ratio gateway / direct (best runs): **{ratio:.2f}** (target ≥ 0.8)\n"
        f"- the gateway's own work, building {args.messages:,} SDK messages from PushMessages without sending: "
        f"{build_seconds:.2f} s ({build_seconds * best['direct'] / args.messages:.1%} of the best direct run)\n"
        f"- command: `{command}`; mock FCM: asyncio HTTP/1.1 on 127.0.0.1 in its own process, "
        f"{stats['send']:,} sends and {stats['token']} token fetches seen (incl. {args.warmup:,} warm-up per side)\n"
        f"- machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, firebase-admin {firebase_admin.__version__}, "
        f"load average before {' '.join(f'{x:.2f}' for x in load_before)}, after {' '.join(f'{x:.2f}' for x in load_after)}; commit {commit}\n"
    )


if __name__ == "__main__":
    sys.exit(main())
