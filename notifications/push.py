"""Push gateways: how a notification leaves the system, chosen by `PUSH_BACKEND`.

- `log` (default): one JSON line per delivered message, `{"token", "title", "body", "data"}`
  (topic sends: `{"topic", "title", "body", "data"}`), appended to `PUSH_LOG_FILE` (stderr
  without one). Topic (un)subscriptions succeed and write nothing, so the file stays "one
  line per delivered message".
- `fcm`: Firebase Cloud Messaging through the official `firebase-admin` SDK, with the
  service-account file named by `GOOGLE_APPLICATION_CREDENTIALS` and the project from that
  file (or `FCM_PROJECT_ID`). Construct it once per worker process: each gateway owns a
  named firebase app with its own HTTP pools.
- `memory`: one process-wide `MemoryGateway` (`memory_gateway`), for tests.

Unlike the mail gateways, a push gateway does not raise for a failed delivery: FCM answers
per message, so every message gets a `PushOutcome` saying whether to forget the device
(`remove_device`), try again later (`retry`) or give up (neither). Only a broken
configuration raises (`PushConfigError`, at construction).

This is the only module that imports `firebase_admin`.
"""
from __future__ import annotations

import itertools
import os
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote

import firebase_admin
import requests.adapters
from firebase_admin import credentials, exceptions, messaging
from urllib3.util.retry import Retry

from .jsonlines import JsonLines

# FCM's own limits per call (firebase-admin raises ValueError beyond them).
SEND_EACH_LIMIT = 500
TOPIC_BATCH_LIMIT = 1000

_TOPIC_NAME = re.compile(r"^[a-zA-Z0-9\-_.~%]+\Z")
# FCM refuses the whole message (400) for these data keys, for every device alike.
_RESERVED_DATA_KEYS = frozenset({"from", "message_type", "notification"})
_RESERVED_DATA_PREFIXES = ("google.", "gcm.")
# FCM's (and APNs') payload limit. FCM answers an oversized message with a bare 400
# INVALID_ARGUMENT, the same answer as for a bad token, so it is refused here instead.
PAYLOAD_LIMIT_BYTES = 4096


class PushConfigError(Exception):
    """The push backend cannot start: missing or malformed credentials, no project id."""


# --- values -------------------------------------------------------------------------------------


def _check_common(kind: str, title: str, body: str, data: dict, collapse_key: str, channel: str, thread_id: str) -> None:
    for name, value in (("title", title), ("body", body), ("collapse_key", collapse_key), ("channel", channel), ("thread_id", thread_id)):
        if not isinstance(value, str):
            raise ValueError(f"{kind}.{name} must be a string")
    if not isinstance(data, dict):
        raise ValueError(f"{kind}.data must be a dict of strings")
    for key, value in data.items():
        if not isinstance(key, str) or not key or not isinstance(value, str):
            # FCM's rule: data is a map of string to string; a number would be a 400 for every device.
            raise ValueError(f"{kind}.data must map non-empty strings to strings, got {key!r}: {value!r}")
        if key in _RESERVED_DATA_KEYS or key.startswith(_RESERVED_DATA_PREFIXES):
            raise ValueError(f"{kind}.data key {key!r} is reserved by FCM")
    size = len(title.encode()) + len(body.encode()) + sum(len(k.encode()) + len(v.encode()) for k, v in data.items())
    if size > PAYLOAD_LIMIT_BYTES:
        raise ValueError(f"{kind} carries {size} bytes of title, body and data; FCM takes at most {PAYLOAD_LIMIT_BYTES}")


@dataclass(frozen=True)
class PushMessage:
    """One notification to one device. Empty `collapse_key`/`channel`/`thread_id`: not set."""

    token: str
    title: str
    body: str
    data: dict[str, str] = field(default_factory=dict)
    collapse_key: str = ""
    channel: str = ""
    thread_id: str = ""

    def __post_init__(self):
        if not isinstance(self.token, str) or not self.token:
            raise ValueError("PushMessage.token must be a non-empty string")
        _check_common("PushMessage", self.title, self.body, self.data, self.collapse_key, self.channel, self.thread_id)


@dataclass(frozen=True)
class TopicMessage:
    """One notification to every device subscribed to `topic` (see `topic_name`)."""

    topic: str
    title: str
    body: str
    data: dict[str, str] = field(default_factory=dict)
    collapse_key: str = ""
    channel: str = ""
    thread_id: str = ""

    def __post_init__(self):
        _check_topic(self.topic)
        _check_common("TopicMessage", self.title, self.body, self.data, self.collapse_key, self.channel, self.thread_id)


@dataclass(frozen=True)
class PushOutcome:
    ok: bool
    remove_device: bool = False
    retry: bool = False
    error: str | None = None


SENT = PushOutcome(ok=True)


def _check_topic(topic: str) -> None:
    if not isinstance(topic, str) or not _TOPIC_NAME.match(topic):
        raise ValueError(f"topic {topic!r} must match [a-zA-Z0-9-_.~%]+ (see notifications.push.topic_name)")


def topic_name(*parts: str) -> str:
    """A valid FCM topic from free text, e.g. `topic_name("district", "Hörde")` → `district-H%C3%B6rde`.

    FCM topics allow only `[a-zA-Z0-9-_.~%]`; percent-encoding keeps umlauts and spaces
    distinct (Innenstadt-West and "Innenstadt West" stay two topics) and reversible.
    """
    return "-".join(quote(str(part), safe="_.~") for part in parts)


class PushGateway(Protocol):
    def send(self, messages: list[PushMessage]) -> list[PushOutcome]:
        """One outcome per message, in the same order."""

    def send_to_topic(self, message: TopicMessage) -> PushOutcome: ...

    def subscribe(self, tokens: list[str], topic: str) -> list[PushOutcome]:
        """One outcome per token, in the same order; an invalid token → `remove_device`."""

    def unsubscribe(self, tokens: list[str], topic: str) -> list[PushOutcome]: ...


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- log ----------------------------------------------------------------------------------------


class LogGateway:
    def __init__(self, path: str | None = None):
        self.path = path
        self._lines = JsonLines(path)

    def send(self, messages: list[PushMessage]) -> list[PushOutcome]:
        self._lines.write([{"token": m.token, "title": m.title, "body": m.body, "data": m.data} for m in messages])
        return [SENT] * len(messages)

    def send_to_topic(self, message: TopicMessage) -> PushOutcome:
        self._lines.write([{"topic": message.topic, "title": message.title, "body": message.body, "data": message.data}])
        return SENT

    def subscribe(self, tokens: list[str], topic: str) -> list[PushOutcome]:
        _check_topic(topic)
        return [SENT] * len(tokens)

    def unsubscribe(self, tokens: list[str], topic: str) -> list[PushOutcome]:
        _check_topic(topic)
        return [SENT] * len(tokens)


# --- memory -------------------------------------------------------------------------------------


class MemoryGateway:
    """Keeps everything in this process, for tests.

    - `sent`: delivered `PushMessage`s; `topic_sent`: delivered `TopicMessage`s;
      `subscriptions`: topic → set of tokens.
    - `invalid_tokens`: tokens answered with `remove_device` (sends and subscriptions).
    - `fail(n)`: the next `n` outcomes (messages, topic sends or tokens, in call order) are
      `retry` failures, delivering nothing, as an FCM outage would.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.sent: list[PushMessage] = []
            self.topic_sent: list[TopicMessage] = []
            self.subscriptions: dict[str, set[str]] = {}
            self.invalid_tokens: set[str] = set()
            self.failures_left = 0
            self.attempts = 0

    def fail(self, times: int) -> None:
        with self._lock:
            self.failures_left = times

    def mark_invalid(self, *tokens: str) -> None:
        with self._lock:
            self.invalid_tokens.update(tokens)

    def _outcome(self, token: str | None) -> PushOutcome | None:
        """A failure for this item, or None when it goes through. Holds the lock."""
        self.attempts += 1
        if self.failures_left > 0:
            self.failures_left -= 1
            return PushOutcome(ok=False, retry=True, error="UnavailableError: memory gateway told to fail")
        if token is not None and token in self.invalid_tokens:
            return PushOutcome(ok=False, remove_device=True, error="UnregisteredError: memory gateway: invalid token")
        return None

    def send(self, messages: list[PushMessage]) -> list[PushOutcome]:
        outcomes = []
        with self._lock:
            for message in messages:
                failure = self._outcome(message.token)
                if failure is None:
                    self.sent.append(message)
                outcomes.append(failure or SENT)
        return outcomes

    def send_to_topic(self, message: TopicMessage) -> PushOutcome:
        with self._lock:
            failure = self._outcome(None)
            if failure is None:
                self.topic_sent.append(message)
            return failure or SENT

    def _manage(self, tokens: list[str], topic: str, add: bool) -> list[PushOutcome]:
        _check_topic(topic)
        outcomes = []
        with self._lock:
            members = self.subscriptions.setdefault(topic, set())
            for token in tokens:
                failure = self._outcome(token)
                if failure is None:
                    if add:
                        members.add(token)
                    else:
                        members.discard(token)
                outcomes.append(failure or SENT)
        return outcomes

    def subscribe(self, tokens: list[str], topic: str) -> list[PushOutcome]:
        return self._manage(tokens, topic, add=True)

    def unsubscribe(self, tokens: list[str], topic: str) -> list[PushOutcome]:
        return self._manage(tokens, topic, add=False)

    def subscribers(self, topic: str) -> set[str]:
        with self._lock:
            return set(self.subscriptions.get(topic, ()))


memory_gateway = MemoryGateway()


# --- fcm ----------------------------------------------------------------------------------------

_app_numbers = itertools.count(1)

# Per-token answers of topic management: FCM v1 `errorCode`/`status` names, the legacy IID
# names, and the SDK's 'UNKNOWN_ERROR' when no answer arrived at all.
_TOPIC_REMOVE = frozenset(
    {"UNREGISTERED", "NOT_FOUND", "INVALID_ARGUMENT", "SENDER_ID_MISMATCH", "registration-token-not-registered", "invalid-registration-token"}
)
_TOPIC_RETRY = frozenset(
    {"INTERNAL", "UNAVAILABLE", "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "DEADLINE_EXCEEDED", "UNKNOWN_ERROR", "internal-error", "server-unavailable"}
)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _field_violations(exc: exceptions.FirebaseError) -> list[str]:
    """The fields a 400 names (google.rpc.BadRequest), [] when it names none."""
    response = exc.http_response
    if response is None:
        return []
    try:
        details = response.json().get("error", {}).get("details", [])
        return [
            violation.get("field", "")
            for detail in details
            if detail.get("@type") == "type.googleapis.com/google.rpc.BadRequest"
            for violation in detail.get("fieldViolations", [])
        ]
    except (ValueError, AttributeError, TypeError):
        return []


def classify(exc: BaseException | None) -> PushOutcome:
    """What one failed FCM send means for the device and for the worker."""
    if exc is None:
        return SENT
    error = _describe(exc)
    if isinstance(exc, (messaging.UnregisteredError, messaging.SenderIdMismatchError)):
        return PushOutcome(ok=False, remove_device=True, error=error)
    if isinstance(exc, exceptions.InvalidArgumentError):
        # FCM answers 400 both for a bad token and for a bad payload (oversized, a bad field);
        # a payload fault names its field and must not wipe every device it was sent to.
        fields = _field_violations(exc)
        if fields and any(not f.startswith("message.token") for f in fields):
            return PushOutcome(ok=False, error=error)
        return PushOutcome(ok=False, remove_device=True, error=error)
    if isinstance(exc, (exceptions.ResourceExhaustedError, exceptions.UnavailableError, exceptions.InternalError, exceptions.DeadlineExceededError)):
        return PushOutcome(ok=False, retry=True, error=error)
    if isinstance(exc, exceptions.FirebaseError):
        status = exc.http_response.status_code if exc.http_response is not None else None
        # No answer at all (transport trouble) or any other 5xx: FCM may well take it later.
        if status is None or status >= 500:
            return PushOutcome(ok=False, retry=True, error=error)
    return PushOutcome(ok=False, error=error)


def _topic_outcome(reason: str) -> PushOutcome:
    if reason in _TOPIC_REMOVE:
        return PushOutcome(ok=False, remove_device=True, error=reason)
    if reason in _TOPIC_RETRY:
        return PushOutcome(ok=False, retry=True, error=reason)
    return PushOutcome(ok=False, error=reason)


def _fcm_message(m: PushMessage | TopicMessage, *, token: str | None = None, topic: str | None = None) -> messaging.Message:
    android = None
    if m.collapse_key or m.channel:
        android = messaging.AndroidConfig(
            collapse_key=m.collapse_key or None,
            notification=messaging.AndroidNotification(channel_id=m.channel) if m.channel else None,
        )
    apns = None
    if m.collapse_key or m.thread_id:
        apns = messaging.APNSConfig(
            headers={"apns-collapse-id": m.collapse_key} if m.collapse_key else None,
            payload=messaging.APNSPayload(aps=messaging.Aps(thread_id=m.thread_id)) if m.thread_id else None,
        )
    message = messaging.Message(
        notification=messaging.Notification(title=m.title, body=m.body),
        data=dict(m.data) or None,
        android=android,
        apns=apns,
        topic=topic,
    )
    if token is not None:
        # `Message(token=...)` warns on every message since firebase-admin 7.7 (it points to
        # `fid`, the Firebase installation id). Our devices register FCM registration tokens,
        # which FCM v1 still addresses as `token`: the same public attribute, set without the
        # warning (100,000 warnings per fan-out would cost time and flood test reports).
        message.token = token
    return message


def set_fcm_retries(app: firebase_admin.App, retries: Retry | int | bool) -> None:
    """Replace the SDK's own HTTP retries for FCM requests of this app.

    firebase-admin mounts a requests adapter on https://fcm.googleapis.com with
    `_http_client.DEFAULT_RETRY_CONFIG` (4 retries on 500/503, backoff 0.5 → about 7 s of
    sleeping, and Retry-After honoured on 429/503) and offers no option to change it. This
    mounts an equal adapter (same pool sizes) with `retries`. It reaches into the private
    `_MessagingService._client`; test_fcm_contract checks that it still takes effect.
    """
    service = messaging._get_messaging_service(app)  # noqa: SLF001 - see docstring
    adapter = requests.adapters.HTTPAdapter(pool_connections=100, pool_maxsize=100, max_retries=retries)
    service._client.session.mount("https://fcm.googleapis.com", adapter)  # noqa: SLF001


class FcmGateway:
    """Firebase Cloud Messaging through firebase-admin, on a named app of its own.

    `retries`: None keeps the SDK's built-in retries (production: a 500/503 is retried for
    about 7 s inside the SDK before the outcome says `retry`, so never send from a request
    thread); tests pass `False`. A `Retry` of your own needs `allowed_methods=None`, or it
    never retries the POSTs FCM is sent with. See `set_fcm_retries`.
    """

    def __init__(
        self,
        credentials_path: str | None,
        project_id: str | None = None,
        *,
        app_name: str | None = None,
        retries: Retry | int | bool | None = None,
        http_timeout: float | None = None,
    ):
        if not credentials_path:
            raise PushConfigError("PUSH_BACKEND=fcm needs GOOGLE_APPLICATION_CREDENTIALS: the path of a service-account JSON file")
        try:
            credential = credentials.Certificate(credentials_path)
        except OSError as exc:
            raise PushConfigError(f"cannot read the FCM service-account file {credentials_path}: {exc.strerror or exc}") from exc
        except ValueError as exc:  # also json.JSONDecodeError
            raise PushConfigError(f"{credentials_path} is not a usable service-account JSON file: {exc}") from exc
        project_id = project_id or credential.project_id or os.environ.get("GOOGLE_CLOUD_PROJECT")
        if not project_id:
            raise PushConfigError(f"no Firebase project id: neither {credentials_path} (project_id) nor FCM_PROJECT_ID names one")
        options = {"projectId": project_id}
        if http_timeout is not None:
            options["httpTimeout"] = http_timeout
        self.project_id = project_id
        self.app_name = app_name or f"dortmund-push-{next(_app_numbers)}-{uuid.uuid4().hex[:8]}"
        try:
            self.app = firebase_admin.initialize_app(credential, options, name=self.app_name)
        except ValueError as exc:  # the name is taken
            raise PushConfigError(str(exc)) from exc
        if retries is not None:
            set_fcm_retries(self.app, retries)

    def close(self) -> None:
        firebase_admin.delete_app(self.app)

    def __enter__(self) -> FcmGateway:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def send(self, messages: list[PushMessage]) -> list[PushOutcome]:
        outcomes: list[PushOutcome] = []
        for chunk in _chunks(messages, SEND_EACH_LIMIT):
            outcomes.extend(self._send_chunk([_fcm_message(m, token=m.token) for m in chunk]))
        return outcomes

    def _send_chunk(self, chunk: list[messaging.Message]) -> list[PushOutcome]:
        try:
            batch = messaging.send_each(chunk, app=self.app)
        except ValueError as exc:
            # One message the SDK refuses to encode fails the whole call; find it, send the rest.
            if len(chunk) == 1:
                return [PushOutcome(ok=False, error=_describe(exc))]
            return [self._send_chunk([m])[0] for m in chunk]
        except exceptions.FirebaseError as exc:  # the call as a whole broke (its thread pool)
            return [PushOutcome(ok=False, retry=True, error=_describe(exc))] * len(chunk)
        return [SENT if r.success else classify(r.exception) for r in batch.responses]

    def send_to_topic(self, message: TopicMessage) -> PushOutcome:
        try:
            messaging.send(_fcm_message(message, topic=message.topic), app=self.app)
        except exceptions.FirebaseError as exc:
            outcome = classify(exc)
            # A topic has no device to forget.
            return PushOutcome(ok=False, retry=outcome.retry, error=outcome.error)
        return SENT

    def _manage(self, tokens: list[str], topic: str, call) -> list[PushOutcome]:
        _check_topic(topic)
        outcomes: list[PushOutcome | None] = [None] * len(tokens)
        # The SDK refuses a whole batch for one empty token; such a device cannot be reached.
        usable = []
        for index, token in enumerate(tokens):
            if isinstance(token, str) and token:
                usable.append(index)
            else:
                outcomes[index] = PushOutcome(ok=False, remove_device=True, error="empty registration token")
        for batch in _chunks(usable, TOPIC_BATCH_LIMIT):
            try:
                response = call([tokens[i] for i in batch], topic, app=self.app)
            except exceptions.FirebaseError as exc:
                outcome = classify(exc)
                for i in batch:
                    outcomes[i] = PushOutcome(ok=False, retry=outcome.retry, error=outcome.error)
                continue
            for i in batch:
                outcomes[i] = SENT
            for error in response.errors:
                outcomes[batch[error.index]] = _topic_outcome(error.reason)
        return outcomes

    def subscribe(self, tokens: list[str], topic: str) -> list[PushOutcome]:
        return self._manage(tokens, topic, messaging.subscribe_to_topic)

    def unsubscribe(self, tokens: list[str], topic: str) -> list[PushOutcome]:
        return self._manage(tokens, topic, messaging.unsubscribe_from_topic)


# --- configuration ------------------------------------------------------------------------------


_fcm_gateways: dict[tuple, FcmGateway] = {}


def gateway_from_config(config) -> PushGateway:
    backend = config.get("PUSH_BACKEND", "log")
    if backend == "log":
        return LogGateway(config.get("PUSH_LOG_FILE"))
    if backend == "memory":
        return memory_gateway
    if backend == "fcm":
        path = config.get("GOOGLE_APPLICATION_CREDENTIALS") or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
        project = config.get("FCM_PROJECT_ID") or None
        key = (path, project)
        gateway = _fcm_gateways.get(key)
        if gateway is None:
            # One per process: each owns a firebase app and its connection pools, and the
            # Celery task asks for its gateway every pass. The SDK's own retries are off:
            # the drain retries a 5xx or quota answer itself, with backoff, without holding
            # a whole pass for seconds (or for a Retry-After of hours) inside one call.
            gateway = _fcm_gateways[key] = FcmGateway(path, project_id=project, retries=False)
        return gateway
    raise ValueError(f"unknown PUSH_BACKEND {backend!r} (log, fcm or memory)")
