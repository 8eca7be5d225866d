"""Contract of the FCM gateway with the real firebase-admin SDK, FCM answered by `responses`.

firebase-admin 7.7's synchronous `send_each`, `send` and topic management all go through
`requests` (a thread per message; httpx is used only by the *_async variants), so
`responses` sees every HTTP call, including the OAuth token fetch of the fake service
account. Topic management in 7.7 no longer uses the IID `batchAdd`/`batchRemove` endpoints
(that is `subscribe_to_topic_legacy`, deprecated): it sends one FCM v1 request per token to
`/v1/projects/<id>/registrations/<token>/topicSubscriptions`, up to 1,000 tokens per SDK call.
"""
from __future__ import annotations

import json
import re
import threading
import time
import warnings
from urllib.parse import parse_qs, unquote, urlsplit

import firebase_admin
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from firebase_admin import messaging
from urllib3.util.retry import Retry

from notifications.push import FcmGateway, PushConfigError, PushMessage, PushOutcome, TopicMessage, gateway_from_config

PROJECT = "dortmund-test"
TOKEN_URL = "https://oauth2.googleapis.com/token"
SEND_URL = f"https://fcm.googleapis.com/v1/projects/{PROJECT}/messages:send"
REGISTRATIONS = re.compile(rf"https://fcm\.googleapis\.com/v1/projects/{PROJECT}/registrations/.*")
IID = re.compile(r"https://iid\.googleapis\.com/.*")
ACCESS_TOKEN = "ya29.fake-access-token"
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def service_account(private_key_pem: str, **changes) -> dict:
    info = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "0123456789abcdef",
        "private_key": private_key_pem,
        "client_email": f"firebase-adminsdk@{PROJECT}.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": TOKEN_URL,
    }
    info.update(changes)
    return {k: v for k, v in info.items() if v is not None}


@pytest.fixture
def credential_file(tmp_path, private_key_pem):
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(service_account(private_key_pem)), encoding="utf-8")
    return str(path)


@pytest.fixture
def fcm():
    """Every HTTP call of the SDK answered here; an unexpected URL is a ConnectionError."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(TOKEN_URL, json={"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"})
        yield mock


@pytest.fixture
def gateway(credential_file, fcm):
    # No SDK-internal retries: one HTTP answer, one outcome (the default is tested below).
    gw = FcmGateway(credential_file, retries=False)
    yield gw
    gw.close()


def message(token: str = "device-token-1", **changes) -> PushMessage:
    values = dict(
        token=token,
        title="Ihre Idee wurde beantwortet",
        body="Mehr Bänke am Phoenix-See",
        data={"type": "idea_response", "idea_id": "42"},
        collapse_key="idea-42",
        channel="idea_updates",
        thread_id="idea-42",
    )
    values.update(changes)
    return PushMessage(**values)


def fcm_error(status: int, rpc_status: str, error_code: str | None = None, text: str = "error", extra_details=()) -> dict:
    details = [{"@type": FCM_ERROR, "errorCode": error_code}] if error_code else []
    details.extend(extra_details)
    return {"error": {"code": status, "message": text, "status": rpc_status, "details": details}}


def send_calls(mock) -> list:
    return [c for c in mock.calls if c.request.url == SEND_URL]


def sent_body(call) -> dict:
    return json.loads(call.request.body)


# --- one message ----------------------------------------------------------------------------------


def test_success_sends_exactly_this_request(gateway, fcm):
    fcm.post(SEND_URL, json={"name": f"projects/{PROJECT}/messages/0:1"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Message(token=...) would warn in firebase-admin 7.7
        outcomes = gateway.send([message()])
    assert outcomes == [PushOutcome(ok=True)]

    [call] = send_calls(fcm)
    assert call.request.method == "POST"
    assert call.request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert sent_body(call) == {
        "message": {
            "token": "device-token-1",
            "notification": {"title": "Ihre Idee wurde beantwortet", "body": "Mehr Bänke am Phoenix-See"},
            "data": {"type": "idea_response", "idea_id": "42"},
            "android": {"collapse_key": "idea-42", "notification": {"channel_id": "idea_updates"}},
            "apns": {"headers": {"apns-collapse-id": "idea-42"}, "payload": {"aps": {"thread-id": "idea-42"}}},
        }
    }
    # The service account was exchanged for the access token with a signed JWT.
    [token_call] = [c for c in fcm.calls if c.request.url == TOKEN_URL]
    body = token_call.request.body
    grant = parse_qs(body.decode() if isinstance(body, bytes) else body)
    assert grant["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assert grant["assertion"][0].count(".") == 2


def test_optional_fields_left_out_when_empty(gateway, fcm):
    fcm.post(SEND_URL, json={"name": f"projects/{PROJECT}/messages/0:2"})
    gateway.send([message(data={}, collapse_key="", channel="", thread_id="")])
    [call] = send_calls(fcm)
    assert sent_body(call) == {
        "message": {"token": "device-token-1", "notification": {"title": "Ihre Idee wurde beantwortet", "body": "Mehr Bänke am Phoenix-See"}}
    }


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        pytest.param(404, fcm_error(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found."), dict(remove_device=True), id="unregistered"),
        pytest.param(403, fcm_error(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH", "SenderId mismatch"), dict(remove_device=True), id="sender-mismatch"),
        pytest.param(
            400,
            fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token"),
            dict(remove_device=True),
            id="invalid-token",
        ),
        pytest.param(429, fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "Quota exceeded"), dict(retry=True), id="quota-exceeded"),
        pytest.param(500, fcm_error(500, "INTERNAL", "INTERNAL", "Internal error"), dict(retry=True), id="internal-500"),
        pytest.param(503, fcm_error(503, "UNAVAILABLE", "UNAVAILABLE", "The service is unavailable"), dict(retry=True), id="unavailable-503"),
        pytest.param(502, {"error": {"code": 502, "message": "Bad Gateway"}}, dict(retry=True), id="other-5xx"),
        pytest.param(401, fcm_error(401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR", "APNs certificate"), dict(), id="third-party-auth"),
        pytest.param(
            400,
            fcm_error(
                400,
                "INVALID_ARGUMENT",
                None,
                "Invalid value at 'message.data[0].value'",
                [{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [{"field": "message.data[0].value"}]}],
            ),
            dict(),
            id="invalid-payload-keeps-device",
        ),
    ],
)
def test_error_answers_map_to_outcomes(gateway, fcm, status, body, expected):
    fcm.post(SEND_URL, status=status, json=body)
    started = time.monotonic()
    [outcome] = gateway.send([message()])
    assert time.monotonic() - started < 2
    assert outcome.ok is False
    assert outcome.remove_device is expected.get("remove_device", False)
    assert outcome.retry is expected.get("retry", False)
    assert outcome.error and body["error"]["message"] in outcome.error
    # google-auth refreshes the access token on a 401 and tries twice more; nothing else repeats.
    assert len(send_calls(fcm)) == (3 if status == 401 else 1)


def test_transport_failure_is_retried(gateway, fcm):
    fcm.post(SEND_URL, body=ConnectionError("connection reset"))
    [outcome] = gateway.send([message()])
    assert outcome.ok is False and outcome.retry is True and outcome.remove_device is False


def test_sdk_retries_5xx_itself_unless_told_otherwise(credential_file, fcm):
    """The default stays the SDK's (4 retries on 500/503); `retries=` reaches its adapter."""
    fcm.post(SEND_URL, status=503, json=fcm_error(503, "UNAVAILABLE", "UNAVAILABLE"))
    with FcmGateway(credential_file) as default:
        assert default.send([message()])[0].retry is True
    assert len(send_calls(fcm)) == 5  # responses does not sleep between them; FCM would take ~7 s

    fcm.calls.reset()
    with FcmGateway(credential_file, retries=Retry(total=2, status_forcelist=[503], backoff_factor=0, raise_on_status=False, allowed_methods=None)) as two:
        assert two.send([message()])[0].retry is True
    assert len(send_calls(fcm)) == 3


# --- many messages --------------------------------------------------------------------------------


def answer_by_token(answers: dict[str, tuple[int, dict]]):
    """A callback answering each request by its token: threads send a batch in any order."""

    def callback(request):
        token = json.loads(request.body)["message"]["token"]
        status, body = answers.get(token, (200, {"name": f"projects/{PROJECT}/messages/{token}"}))
        return status, {"Content-Type": "application/json"}, json.dumps(body)

    return callback


def test_mixed_batch_outcomes_in_message_order(gateway, fcm):
    fcm.add_callback(
        responses.POST,
        SEND_URL,
        callback=answer_by_token(
            {
                "gone": (404, fcm_error(404, "NOT_FOUND", "UNREGISTERED")),
                "busy": (429, fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED")),
                "bad": (400, fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT")),
                "other-app": (403, fcm_error(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH")),
                "down": (503, fcm_error(503, "UNAVAILABLE")),
            }
        ),
    )
    tokens = ["ok-1", "gone", "ok-2", "busy", "bad", "other-app", "down", "ok-3"]
    outcomes = gateway.send([message(token, data={"n": str(i)}) for i, token in enumerate(tokens)])
    summary = [(o.ok, o.remove_device, o.retry) for o in outcomes]
    assert summary == [
        (True, False, False),
        (False, True, False),
        (True, False, False),
        (False, False, True),
        (False, True, False),
        (False, True, False),
        (False, False, True),
        (True, False, False),
    ]
    bodies = {sent_body(c)["message"]["token"]: sent_body(c)["message"]["data"] for c in send_calls(fcm)}
    assert bodies == {token: {"n": str(i)} for i, token in enumerate(tokens)}


def test_1200_messages_go_out_in_send_each_calls_of_at_most_500(gateway, fcm, monkeypatch):
    fcm.add_callback(responses.POST, SEND_URL, callback=answer_by_token({"t-0007": (404, fcm_error(404, "NOT_FOUND", "UNREGISTERED"))}))
    real_send_each = messaging.send_each
    sizes = []
    lock = threading.Lock()

    def counting_send_each(messages, dry_run=False, app=None):
        with lock:
            sizes.append(len(messages))
        assert app is gateway.app and dry_run is False
        return real_send_each(messages, dry_run=dry_run, app=app)

    monkeypatch.setattr(messaging, "send_each", counting_send_each)
    outcomes = gateway.send([message(f"t-{i:04d}") for i in range(1200)])
    assert sizes == [500, 500, 200]
    assert len(outcomes) == 1200
    assert [i for i, o in enumerate(outcomes) if not o.ok] == [7] and outcomes[7].remove_device
    assert sorted(sent_body(c)["message"]["token"] for c in send_calls(fcm)) == [f"t-{i:04d}" for i in range(1200)]


def test_empty_list_sends_nothing(gateway, fcm):
    assert gateway.send([]) == []
    assert send_calls(fcm) == []


# --- topics ---------------------------------------------------------------------------------------


def test_topic_send_is_one_call(gateway, fcm):
    fcm.post(SEND_URL, json={"name": f"projects/{PROJECT}/messages/77"})
    outcome = gateway.send_to_topic(
        TopicMessage(
            topic="district-Innenstadt-West",
            title="Bürgersprechstunde",
            body="Dienstag im Rathaus",
            data={"type": "district_news", "news_id": "9"},
            collapse_key="news-9",
            channel="district_news",
            thread_id="district-Innenstadt-West",
        )
    )
    assert outcome == PushOutcome(ok=True)
    [call] = send_calls(fcm)
    assert sent_body(call) == {
        "message": {
            "topic": "district-Innenstadt-West",
            "notification": {"title": "Bürgersprechstunde", "body": "Dienstag im Rathaus"},
            "data": {"type": "district_news", "news_id": "9"},
            "android": {"collapse_key": "news-9", "notification": {"channel_id": "district_news"}},
            "apns": {"headers": {"apns-collapse-id": "news-9"}, "payload": {"aps": {"thread-id": "district-Innenstadt-West"}}},
        }
    }


def test_topic_send_failure_never_removes_a_device(gateway, fcm):
    fcm.post(SEND_URL, status=503, json=fcm_error(503, "UNAVAILABLE"))
    assert gateway.send_to_topic(TopicMessage("district-x", "T", "B")) .retry is True
    fcm.replace(responses.POST, SEND_URL, status=400, json=fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"))
    outcome = gateway.send_to_topic(TopicMessage("district-x", "T", "B"))
    assert (outcome.ok, outcome.remove_device, outcome.retry) == (False, False, False)


def registration_callback(answers: dict[str, tuple[int, dict]], seen: list, lock: threading.Lock):
    def callback(request):
        parts = urlsplit(request.url)
        token = unquote(parts.path.split("/registrations/")[1].split("/")[0])
        with lock:
            seen.append((request.method, parts.path, parts.query, request.body, token))
        status, body = answers.get(token, (200, {}))
        return status, {"Content-Type": "application/json"}, json.dumps(body)

    return callback


def test_subscribe_2500_tokens_in_three_sdk_calls_with_per_token_outcomes(gateway, fcm, monkeypatch):
    seen, lock = [], threading.Lock()
    answers = {
        "tok-0003": (404, fcm_error(404, "NOT_FOUND", "UNREGISTERED")),
        "tok-1500": (400, fcm_error(400, "INVALID_ARGUMENT", None)),
        "tok-2499": (503, fcm_error(503, "UNAVAILABLE")),
        "tok-0100": (409, {"error": {"code": 409, "status": "ALREADY_EXISTS", "message": "exists"}}),
    }
    fcm.add_callback(responses.POST, REGISTRATIONS, callback=registration_callback(answers, seen, lock))
    real = messaging.subscribe_to_topic
    sizes = []
    monkeypatch.setattr(messaging, "subscribe_to_topic", lambda tokens, topic, app=None: sizes.append(len(tokens)) or real(tokens, topic, app=app))

    tokens = [f"tok-{i:04d}" for i in range(2500)]
    outcomes = gateway.subscribe(tokens, "district-Hombruch")

    assert sizes == [1000, 1000, 500]
    assert len(outcomes) == 2500
    failed = {tokens[i]: (o.remove_device, o.retry) for i, o in enumerate(outcomes) if not o.ok}
    assert failed == {"tok-0003": (True, False), "tok-1500": (True, False), "tok-2499": (False, True)}
    assert outcomes[100].ok  # already subscribed counts as subscribed
    assert len(seen) == 2500
    method, path, query, body, token = sorted(seen, key=lambda s: s[4])[42]
    assert (method, path, query, json.loads(body)) == (
        "POST",
        f"/v1/projects/{PROJECT}/registrations/tok-0042/topicSubscriptions",
        "topic_name=district-Hombruch",
        {},
    )
    assert not [c for c in fcm.calls if IID.match(c.request.url)]


def test_unsubscribe_deletes_each_subscription(gateway, fcm):
    seen, lock = [], threading.Lock()
    fcm.add_callback(
        responses.DELETE,
        REGISTRATIONS,
        callback=registration_callback({"gone": (404, fcm_error(404, "NOT_FOUND", "UNREGISTERED"))}, seen, lock),
    )
    outcomes = gateway.unsubscribe(["a", "gone", ""], "district-Hombruch")
    assert [(o.ok, o.remove_device) for o in outcomes] == [(True, False), (False, True), (False, True)]
    assert sorted((m, p, q) for m, p, q, _, _ in seen) == [
        ("DELETE", f"/v1/projects/{PROJECT}/registrations/a/topicSubscriptions/district-Hombruch", "allow_missing=true"),
        ("DELETE", f"/v1/projects/{PROJECT}/registrations/gone/topicSubscriptions/district-Hombruch", "allow_missing=true"),
    ]


# --- configuration --------------------------------------------------------------------------------


def test_named_apps_never_touch_the_default_app(credential_file, fcm, private_key_pem, tmp_path):
    other = tmp_path / "other.json"
    other.write_text(json.dumps(service_account(private_key_pem, project_id="other-project")), encoding="utf-8")
    with FcmGateway(credential_file) as one, FcmGateway(str(other)) as two:
        assert one.app.name != two.app.name
        assert (one.app.project_id, two.app.project_id) == (PROJECT, "other-project")
        with pytest.raises(ValueError):
            firebase_admin.get_app()  # the default app stays uninitialised
    with pytest.raises(ValueError):
        firebase_admin.get_app(one.app_name)  # close() deleted it


def test_explicit_project_id_wins(credential_file, fcm):
    fcm.post("https://fcm.googleapis.com/v1/projects/explicit-project/messages:send", json={"name": "x"})
    with FcmGateway(credential_file, project_id="explicit-project") as gw:
        assert gw.send([message()]) == [PushOutcome(ok=True)]


def write(tmp_path, content) -> str:
    path = tmp_path / "sa.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        pytest.param(lambda tmp, pem: None, "GOOGLE_APPLICATION_CREDENTIALS", id="unset"),
        pytest.param(lambda tmp, pem: str(tmp / "missing.json"), "cannot read", id="missing-file"),
        pytest.param(lambda tmp, pem: write(tmp, "{not json"), "not a usable service-account", id="not-json"),
        pytest.param(lambda tmp, pem: write(tmp, service_account(pem, type="authorized_user")), "not a usable service-account", id="wrong-type"),
        pytest.param(lambda tmp, pem: write(tmp, service_account(pem, client_email=None)), "not a usable service-account", id="no-client-email"),
        pytest.param(lambda tmp, pem: write(tmp, service_account("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")), "not a usable service-account", id="bad-key"),
        pytest.param(lambda tmp, pem: write(tmp, service_account(pem, project_id=None)), "project id", id="no-project"),
        pytest.param(lambda tmp, pem: str(tmp), "cannot read", id="a-directory"),
    ],
)
def test_broken_credentials_raise_push_config_error(tmp_path, private_key_pem, monkeypatch, make, words):
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    path = make(tmp_path, private_key_pem)
    with pytest.raises(PushConfigError, match=words):
        FcmGateway(path)
    with pytest.raises(PushConfigError):
        gateway_from_config({"PUSH_BACKEND": "fcm", "GOOGLE_APPLICATION_CREDENTIALS": path})


def test_gateway_from_config_builds_fcm(credential_file, fcm):
    gw = gateway_from_config({"PUSH_BACKEND": "fcm", "GOOGLE_APPLICATION_CREDENTIALS": credential_file, "FCM_PROJECT_ID": "cfg-project"})
    try:
        assert isinstance(gw, FcmGateway) and gw.app.project_id == "cfg-project"
    finally:
        gw.close()
