"""The throttle: attempts counted before the work they guard, atomically, on Redis or in memory.

A limit that is checked before a request and counted after it lets every request in flight
through: 40 parallel guesses were all checked against a limit of 5. Here an attempt is
counted first (one atomic increment per counter: Redis INCRBY, or a locked counter in
memory) and the work runs only when every counter is still within its limit; an attempt
that should not count after all (a successful login) is refunded. However many requests
arrive at once, at most the limit's number of them get through per window.

Counters live in fixed windows (`limits`' fixed-window strategy on its storage backends).
In production all workers share them through Redis (`REDIS_URL`; `APP_ENV=production`
refuses to start without it); when Redis is unreachable the counters fall back to this
process's memory for a while instead of failing the request.
"""
from __future__ import annotations

import hashlib
import ipaddress
import logging
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string

from models.users import normalize_email

from .extensions import client_address

log = logging.getLogger("api.throttle")

# After Redis failed, counters stay in memory this long before Redis is tried again.
FALLBACK_SECONDS = 30


@lru_cache(maxsize=64)
def _limit(text: str) -> RateLimitItem:
    return parse(text)


class Counters:
    """The storage of one app's counters: the configured one, memory while it is down."""

    def __init__(self, uri: str) -> None:
        options = {} if uri.startswith("memory") else {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
        self.fallback = MemoryStorage()
        self.primary: Storage = self.fallback if uri.startswith("memory") else storage_from_string(uri, **options)
        self._down_until = 0.0
        self._lock = threading.Lock()

    def _storages(self) -> tuple[Storage, ...]:
        if self.primary is self.fallback or time.monotonic() < self._down_until:
            return (self.fallback,)
        return (self.primary, self.fallback)

    def incr(self, item: RateLimitItem, key: str, amount: int) -> tuple[int, float]:
        """Add `amount` to the counter (atomically); return its new value and when its window ends."""
        name = item.key_for(key)
        for storage in self._storages():
            try:
                return storage.incr(name, item.get_expiry(), amount=amount), storage.get_expiry(name)
            except Exception:  # noqa: BLE001 - any storage failure: count in memory instead
                if storage is self.fallback:
                    raise
                with self._lock:
                    self._down_until = time.monotonic() + FALLBACK_SECONDS
                log.warning("throttle storage unreachable; counting in memory for %s s", FALLBACK_SECONDS)
        raise RuntimeError("unreachable")  # pragma: no cover

    def reset(self) -> None:
        for storage in {id(s): s for s in (self.primary, self.fallback)}.values():
            try:
                storage.reset()
            except Exception:  # noqa: BLE001 - a storage that is down has nothing to reset
                pass


@dataclass
class Grant:
    """Attempts counted for one request; `refund()` takes them back (they did not count)."""

    counters: Counters
    hits: list[tuple[RateLimitItem, str]] = field(default_factory=list)

    def refund(self) -> None:
        hits, self.hits = self.hits, []
        for item, key in hits:
            self.counters.incr(item, key, -1)


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("throttled")
        self.retry_after = retry_after


def init_throttle(app: Flask) -> None:
    uri = app.config.get("THROTTLE_STORAGE_URI") or app.config["REDIS_URL"] or "memory://"
    app.extensions["throttle"] = Counters(uri)


def counters() -> Counters:
    return current_app.extensions["throttle"]


@dataclass(frozen=True)
class Allowance:
    """A counter whose limit may be set per key (an Open311 key's own), else by the setting."""

    setting: str
    limit: str | None = None

    def __str__(self) -> str:
        return self.setting


def count(*checks: tuple[str | Allowance, str]) -> Grant:
    """Count one attempt on each `(setting, key)` counter; raise `Throttled` when any is spent.

    `setting` names an app setting whose value is a limit such as "5 per 15 minutes" (or is an
    `Allowance` carrying its own). When a counter is over its limit, the attempts just counted
    are taken back, so that refused requests do not prolong a lock-out.
    """
    store = counters()
    grant = Grant(store)
    for setting, key in checks:
        text = setting.limit if isinstance(setting, Allowance) and setting.limit else current_app.config[str(setting)]
        setting = str(setting)
        item = _limit(text)
        value, resets_at = store.incr(item, f"{setting}:{key}", 1)
        grant.hits.append((item, f"{setting}:{key}"))
        if value > item.amount:
            grant.refund()
            raise Throttled(max(1, int(resets_at - time.time()) + 1))
    return grant


def attempt(*checks: tuple[str, str]) -> Grant:
    """`count`, answering 429 with `Retry-After` (the API's error shape) when a limit is spent."""
    from flask_smorest import abort

    from .i18n import translate

    try:
        return count(*checks)
    except Throttled as exc:
        abort(429, message=translate("rate_limited"), headers={"Retry-After": str(exc.retry_after)})


def client_network() -> str:
    """The client as throttles count it: an IPv4 address, or the /64 of an IPv6 address.

    One IPv6 subscriber usually holds a whole /64: counting single addresses would give each
    attacker billions of fresh budgets.
    """
    address = client_address()
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _account(email: object) -> str:
    # Hashed: counter keys in Redis should not be a list of e-mail addresses.
    text = normalize_email(email) if isinstance(email, str) else "-"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def address_key(scope: str) -> str:
    return f"{scope}:addr:{client_network()}"


def account_key(scope: str, email: object) -> str:
    return f"{scope}:acct:{_account(email)}"


def account_address_key(scope: str, email: object) -> str:
    return f"{scope}:acct-addr:{_account(email)}:{client_network()}"
