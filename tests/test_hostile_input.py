"""Hostile input at representative endpoints: always a 4xx in the error shape, never a 5xx.

Each case is something Python's `json`, the database drivers or PostgreSQL trip over when it
reaches them unchecked (see ARCHITECTURE.md, "Facts measured"): deep nesting, integers beyond
the int-string limit, lone UTF-16 surrogates, NUL bytes, datetimes at the calendar's ends,
ids beyond 32 and 64 bits. Bodies are written by hand, as raw text, so that the test client's
own encoder cannot refuse or normalise them first.
"""
from __future__ import annotations

import base64
import json

import pytest

API = "/api/v1"
DEEP = "[" * 5000 + "]" * 5000
LONG_INTEGER = "9" * 5000
EXTREME_TIMES = ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00")
HUGE_IDS = (2**31, 2**63, 2**64 + 1, -(2**63) - 1)


def assert_refused(response, *allowed: int):
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:300])
    if allowed:
        assert response.status_code in allowed, (response.status_code, response.get_json())
    body = response.get_json()
    assert set(body) == {"code", "status", "message", "errors"}, body
    assert body["code"] == response.status_code
    assert isinstance(body["errors"], dict)
    return body


def post_raw(client, path, text: str, headers=None):
    return client.post(path, data=text.encode("utf-8"), content_type="application/json", headers=headers or {})


def hostile_bodies(valid: dict) -> dict[str, str]:
    """Raw JSON texts: `valid` with one field made hostile in each way (plus whole-body cases)."""
    field = next(k for k, v in valid.items() if isinstance(v, str))
    base = json.dumps(valid)

    def with_field(raw_value: str) -> str:
        return base.replace(json.dumps(valid[field]), raw_value, 1)

    return {
        "deeply nested body": DEEP,
        "deeply nested field": with_field(DEEP),
        "integer of 5000 digits": with_field(LONG_INTEGER),
        "lone surrogate": with_field('"abc\\ud800def"'),
        "lone low surrogate": with_field('"\\udfff"'),
        "NUL byte": with_field('"abc\\u0000def"'),
        "NaN": with_field("NaN"),
    }


LOGIN = {"email": "somebody@example.org", "password": "correct horse battery"}
IDEA = {
    "title": "Mehr Bänke am Phoenix-See",
    "body": "Am Nordufer fehlen Sitzgelegenheiten für ältere Menschen.",
    "category": "green_spaces",
    "district": "hoerde",
}


@pytest.mark.parametrize("case", list(hostile_bodies(LOGIN)))
def test_login_refuses_hostile_bodies(client, case):
    # 401 is also fine for a NUL in the password: it is only ever wrong credentials.
    assert_refused(post_raw(client, f"{API}/auth/login", hostile_bodies(LOGIN)[case]), 400, 401, 422)


@pytest.mark.parametrize("case", list(hostile_bodies(IDEA)))
def test_idea_submission_refuses_hostile_bodies(client, make_user, case):
    user = make_user()
    r = post_raw(client, f"{API}/ideas", hostile_bodies(IDEA)[case], headers=user.headers)
    assert_refused(r, 400, 422)


@pytest.mark.parametrize("field", ["title", "body", "category", "district"])
@pytest.mark.parametrize("value", ["\ud800", "a\x00b"], ids=["surrogate", "nul"])
def test_idea_fields_refuse_surrogates_and_nul(client, make_user, field, value):
    user = make_user()
    text = json.dumps({**IDEA, field: IDEA[field][:3] + value + IDEA[field][3:]})  # escapes both
    assert_refused(post_raw(client, f"{API}/ideas", text, headers=user.headers), 400, 422)


def cursor(kind: str, values: list) -> str:
    raw = json.dumps([kind, values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("huge", HUGE_IDS)
@pytest.mark.parametrize("sort, kind, arity", [("new", "ideas-new", 1), ("top", "ideas-top", 2)])
def test_idea_list_refuses_cursors_with_huge_ids(client, huge, sort, kind, arity):
    r = client.get(f"{API}/ideas", query_string={"sort": sort, "cursor": cursor(kind, [huge] * arity)})
    body = assert_refused(r, 422)
    assert "cursor" in body["errors"]


@pytest.mark.parametrize(
    "raw",
    ["%00", "a%00b", "%00%00", "%C0%80", "%ED%A0%80"],
    ids=["nul", "embedded-nul", "two-nul", "overlong-nul", "encoded-surrogate"],
)
def test_body_slug_with_nul_or_surrogate_is_not_found(client, raw):
    assert_refused(client.get(f"{API}/bodies/{raw}/rounds"), 400, 404)


@pytest.mark.parametrize("huge", HUGE_IDS[:3])
def test_huge_ids_in_paths_are_not_found(client, make_user, huge):
    user = make_user("moderator")
    assert_refused(client.get(f"{API}/ideas/{huge}"), 404)
    assert_refused(client.get(f"{API}/rounds/{huge}"), 404)
    assert_refused(client.put(f"{API}/moderation/users/{huge}/block", json={"reason": "spam"}, headers=user.headers), 404)


@pytest.mark.parametrize(
    "target_id", ["5", 5.5, True, None, 2**31, 2**63, -1, 0, "5.5", LONG_INTEGER], ids=repr
)
def test_flag_target_id_must_be_a_plain_id(client, make_user, target_id):
    user = make_user()
    if target_id is LONG_INTEGER:
        text = '{"target_type": "idea", "target_id": %s, "reason": "spam"}' % LONG_INTEGER
        r = post_raw(client, f"{API}/flags", text, headers=user.headers)
        assert_refused(r, 400, 422)
        return
    r = client.post(f"{API}/flags", json={"target_type": "idea", "target_id": target_id, "reason": "spam"}, headers=user.headers)
    body = assert_refused(r, 404, 422)
    if target_id in ("5", 5.5, True, None, "5.5"):
        assert r.status_code == 422 and "target_id" in body["errors"], body


@pytest.mark.parametrize("until", EXTREME_TIMES + ("0000-01-01T00:00:00+00:00", "10000-01-01T00:00:00+00:00", "2030-01-01T00:00:00"))
def test_block_until_at_the_ends_of_time_is_422(client, make_user, until):
    moderator, resident = make_user("moderator"), make_user()
    r = client.put(
        f"{API}/moderation/users/{resident.id}/block",
        json={"until": until, "reason": "spam"},
        headers=moderator.headers,
    )
    body = assert_refused(r, 422)
    assert "until" in body["errors"], body


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_huge_numbers_in_bodies_are_refused_not_stored(client, make_user, huge):
    """Ids and amounts beyond the columns' range: 4xx at the edge, not a driver error."""
    staff = make_user("staff")
    r = client.post(
        f"{API}/bodies/jugendparlament/rounds",
        json={"title": "Haushalt 2027", "budget": huge, "ballot": {"type": "approval"}, "rule": "greedy"},
        headers=staff.headers,
    )
    assert_refused(r, 422)
    r = client.post(f"{API}/ideas/1/comments", json={"body": "Gute Idee, bin dafür.", "parent_id": huge}, headers=staff.headers)
    assert_refused(r, 404, 422)
