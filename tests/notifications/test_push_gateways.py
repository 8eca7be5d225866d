"""Push values and the log and memory gateways; the FCM gateway has test_fcm_contract."""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from notifications import push
from notifications.push import (
    LogGateway,
    MemoryGateway,
    PushConfigError,
    PushMessage,
    PushOutcome,
    TopicMessage,
    gateway_from_config,
    memory_gateway,
    topic_name,
)

ROOT = Path(__file__).resolve().parents[2]


def msg(token="tok-1", **changes) -> PushMessage:
    values = dict(title="Status geändert", body="Ihre Meldung ist erledigt", data={"type": "report_status", "report_id": "7"})
    values.update(changes)
    return PushMessage(token=token, **values)


# --- values ---------------------------------------------------------------------------------------


def test_push_message_is_frozen_with_optional_routing_fields():
    m = msg()
    assert (m.collapse_key, m.channel, m.thread_id) == ("", "", "")
    with pytest.raises(AttributeError):
        m.title = "x"


@pytest.mark.parametrize(
    "data",
    [{"report_id": 7}, {"ok": True}, {"x": None}, {1: "one"}, {"": "empty key"}, "not a dict"],
)
def test_data_must_map_strings_to_strings(data):
    with pytest.raises(ValueError, match="data"):
        msg(data=data)
    with pytest.raises(ValueError, match="data"):
        TopicMessage("district-x", "T", "B", data=data)


@pytest.mark.parametrize("key", ["from", "message_type", "google.c.a.e", "gcm.n.e"])
def test_keys_fcm_reserves_are_refused(key):
    with pytest.raises(ValueError, match="reserved"):
        msg(data={key: "1"})


def test_payloads_beyond_fcms_4096_bytes_are_refused():
    msg(title="", body="ä" * 1000, data={"k": "x" * 2095})  # 2,000 + 2,096 bytes: just fits
    with pytest.raises(ValueError, match="4096"):
        msg(title="", body="ä" * 1000, data={"k": "x" * 2096})
    with pytest.raises(ValueError, match="4096"):
        TopicMessage("district-x", "T" * 4097, "")


@pytest.mark.parametrize("token", ["", None, 42])
def test_token_must_be_a_non_empty_string(token):
    with pytest.raises(ValueError, match="token"):
        msg(token=token)


def test_text_fields_must_be_strings():
    with pytest.raises(ValueError, match="title"):
        msg(title=None)
    with pytest.raises(ValueError, match="collapse_key"):
        msg(collapse_key=5)


@pytest.mark.parametrize("topic", ["", "district Hörde", "/topics/x", "a/b", "Hörde"])
def test_topic_names_follow_fcm(topic):
    with pytest.raises(ValueError, match="topic"):
        TopicMessage(topic, "T", "B")


def test_topic_name_makes_any_district_a_valid_topic():
    names = [topic_name("district", d) for d in ("Hörde", "Innenstadt-West", "Innenstadt West", "Lütgendortmund", "A/B")]
    assert names[:2] == ["district-H%C3%B6rde", "district-Innenstadt-West"]
    assert len(set(names)) == len(names)
    for name in names:
        TopicMessage(name, "T", "B")  # accepted
    assert unquote(names[0].removeprefix("district-")) == "Hörde"


def test_outcome_defaults():
    assert PushOutcome(ok=True) == PushOutcome(True, False, False, None)


# --- log ------------------------------------------------------------------------------------------


def test_log_gateway_writes_one_json_line_per_message(tmp_path):
    path = tmp_path / "push.jsonl"
    gateway = LogGateway(str(path))
    outcomes = gateway.send([msg("a", collapse_key="r-7", channel="report_updates", thread_id="r-7"), msg("b", data={})])
    assert outcomes == [PushOutcome(ok=True)] * 2
    assert gateway.send_to_topic(TopicMessage("district-Eving", "Neu", "Sprechstunde", {"news_id": "3"})) == PushOutcome(ok=True)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines == [
        {"token": "a", "title": "Status geändert", "body": "Ihre Meldung ist erledigt", "data": {"type": "report_status", "report_id": "7"}},
        {"token": "b", "title": "Status geändert", "body": "Ihre Meldung ist erledigt", "data": {}},
        {"topic": "district-Eving", "title": "Neu", "body": "Sprechstunde", "data": {"news_id": "3"}},
    ]
    assert [list(line) for line in lines] == [["token", "title", "body", "data"]] * 2 + [["topic", "title", "body", "data"]]
    assert "Status geändert" in path.read_text(encoding="utf-8")  # readable, not \u-escaped


def test_log_gateway_subscriptions_succeed_and_write_nothing(tmp_path):
    path = tmp_path / "push.jsonl"
    gateway = LogGateway(str(path))
    assert gateway.subscribe(["a", "b"], "district-Eving") == [PushOutcome(ok=True)] * 2
    assert gateway.unsubscribe(["a"], "district-Eving") == [PushOutcome(ok=True)]
    assert not path.exists()
    with pytest.raises(ValueError):
        gateway.subscribe(["a"], "not a topic")


def test_log_gateway_without_file_writes_to_stderr(capsys):
    LogGateway(None).send([msg("c")])
    assert json.loads(capsys.readouterr().err)["token"] == "c"


# --- memory ---------------------------------------------------------------------------------------


@pytest.fixture
def memory():
    gateway = MemoryGateway()
    yield gateway


def test_memory_gateway_keeps_what_was_sent(memory):
    m1, m2 = msg("a"), msg("b")
    assert memory.send([m1, m2]) == [PushOutcome(ok=True)] * 2
    topic_message = TopicMessage("district-Mengede", "T", "B")
    assert memory.send_to_topic(topic_message) == PushOutcome(ok=True)
    assert memory.sent == [m1, m2]
    assert memory.topic_sent == [topic_message]


def test_memory_gateway_invalid_tokens_ask_to_remove_the_device(memory):
    memory.mark_invalid("gone")
    outcomes = memory.send([msg("a"), msg("gone"), msg("b")])
    assert [(o.ok, o.remove_device, o.retry) for o in outcomes] == [(True, False, False), (False, True, False), (True, False, False)]
    assert [m.token for m in memory.sent] == ["a", "b"]
    assert [o.remove_device for o in memory.subscribe(["gone", "a"], "district-x")] == [True, False]
    assert memory.subscribers("district-x") == {"a"}


def test_memory_gateway_fails_n_times_then_delivers(memory):
    memory.fail(3)
    first = memory.send([msg("a"), msg("b")])
    assert all(o.retry and not o.ok and not o.remove_device for o in first)
    assert memory.send_to_topic(TopicMessage("district-x", "T", "B")).retry is True
    assert memory.sent == [] and memory.topic_sent == []
    assert memory.send([msg("a")]) == [PushOutcome(ok=True)]
    assert memory.attempts == 4 and [m.token for m in memory.sent] == ["a"]


def test_memory_gateway_topic_membership(memory):
    memory.subscribe(["a", "b", "c"], "district-Brackel")
    memory.unsubscribe(["b", "never-subscribed"], "district-Brackel")
    assert memory.subscribers("district-Brackel") == {"a", "c"}
    assert memory.subscribers("district-elsewhere") == set()


def test_memory_gateway_reset(memory):
    memory.send([msg()])
    memory.subscribe(["a"], "district-x")
    memory.mark_invalid("z")
    memory.fail(2)
    memory.reset()
    assert (memory.sent, memory.topic_sent, memory.subscriptions, memory.invalid_tokens, memory.failures_left, memory.attempts) == (
        [],
        [],
        {},
        set(),
        0,
        0,
    )


# --- configuration --------------------------------------------------------------------------------


def test_gateway_from_config(tmp_path, monkeypatch):
    assert isinstance(gateway_from_config({}), LogGateway)
    log = gateway_from_config({"PUSH_BACKEND": "log", "PUSH_LOG_FILE": str(tmp_path / "p.jsonl")})
    assert isinstance(log, LogGateway) and log.path == str(tmp_path / "p.jsonl")
    # One process-wide memory gateway: what a drain sent is visible to the test that started it.
    assert gateway_from_config({"PUSH_BACKEND": "memory"}) is gateway_from_config({"PUSH_BACKEND": "memory"}) is memory_gateway
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    with pytest.raises(PushConfigError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        gateway_from_config({"PUSH_BACKEND": "fcm"})
    with pytest.raises(ValueError, match="PUSH_BACKEND"):
        gateway_from_config({"PUSH_BACKEND": "apns"})


def test_shared_memory_gateway_resets(monkeypatch):
    memory_gateway.reset()
    try:
        memory_gateway.send([msg("x")])
        assert [m.token for m in gateway_from_config({"PUSH_BACKEND": "memory"}).sent] == ["x"]
    finally:
        memory_gateway.reset()
    assert memory_gateway.sent == []


# --- boundaries -----------------------------------------------------------------------------------

_IMPORTS_FIREBASE = re.compile(r"^\s*(import firebase_admin|from firebase_admin\b)", re.MULTILINE)
_IMPORTS_API = re.compile(r"^\s*(import api\b|from api\b)", re.MULTILINE)


def test_only_notifications_imports_firebase_admin():
    skip = {".venv", "node_modules", ".git", "tests", "bench"}
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if not skip & set(path.relative_to(ROOT).parts)
        and path.relative_to(ROOT).parts[0] != "notifications"
        and _IMPORTS_FIREBASE.search(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == []
    assert not _IMPORTS_API.search(Path(push.__file__).read_text(encoding="utf-8"))
