from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_jwt_extended import create_access_token

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def register(client, email="ana@example.org", password="a long password", name="Ana", **headers):
    return client.post(
        "/api/v1/auth/register", json={"email": email, "password": password, "display_name": name}, headers=headers
    )


def test_register_returns_user_and_tokens(client):
    r = register(client)
    assert r.status_code == 201
    assert r.headers["Location"] == "/api/v1/me"
    body = r.get_json()
    assert body["user"]["email"] == "ana@example.org"
    assert body["user"]["roles"] == ["resident"]
    assert body["user"]["bodies"] == []
    assert TIME.match(body["user"]["created_at"])
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.get_json()["id"] == body["user"]["id"]


def test_duplicate_email_is_409_case_insensitively(client):
    assert register(client, email="Ana@Example.org").status_code == 201
    r = register(client, email="ana@EXAMPLE.org")
    assert r.status_code == 409
    assert r.get_json()["code"] == 409


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"email": "not-an-email", "password": "a long password", "display_name": "Ana"}, "email"),
        ({"email": "a@example.org", "password": "short", "display_name": "Ana"}, "password"),
        ({"email": "a@example.org", "password": "a long password", "display_name": ""}, "display_name"),
        ({"email": "a@example.org", "password": "a long password", "display_name": 5}, "display_name"),
        ({"email": "a@example.org", "password": "a long password"}, "display_name"),
        ({"email": "a@example.org", "password": "a long password", "display_name": "A\u0000na"}, "display_name"),
    ],
)
def test_register_validation_names_the_field(client, payload, field):
    r = client.post("/api/v1/auth/register", json=payload)
    assert r.status_code == 422
    body = r.get_json()
    assert set(body) == {"code", "status", "message", "errors"}
    assert field in body["errors"]


def test_login_refresh_logout_cycle(client, make_user):
    user = make_user(email="bo@example.org", password="bo's password")
    r = client.post("/api/v1/auth/login", json={"email": "BO@example.org", "password": "bo's password"})
    assert r.status_code == 200
    tokens = r.get_json()
    access = {"Authorization": f"Bearer {tokens['access_token']}"}
    refresh = {"Authorization": f"Bearer {tokens['refresh_token']}"}
    assert tokens["user"]["id"] == user.id

    r = client.post("/api/v1/auth/refresh", headers=refresh)
    assert r.status_code == 200
    new_access = {"Authorization": f"Bearer {r.get_json()['access_token']}"}
    assert client.get("/api/v1/me", headers=new_access).status_code == 200
    # An access token cannot refresh, a refresh token cannot act as access token.
    assert client.post("/api/v1/auth/refresh", headers=access).status_code == 401
    assert client.get("/api/v1/me", headers=refresh).status_code == 401

    assert client.post("/api/v1/auth/logout", headers=access).status_code == 204
    for headers in (access, new_access):
        r = client.get("/api/v1/me", headers=headers)
        assert r.status_code == 401 and r.get_json()["code"] == 401
    assert client.post("/api/v1/auth/refresh", headers=refresh).status_code == 401
    # Another login session of the same user is untouched.
    assert client.get("/api/v1/me", headers=user.headers).status_code == 200


def test_wrong_credentials_are_401_never_422(client, make_user):
    make_user(email="cy@example.org")
    for payload in (
        {"email": "cy@example.org", "password": "x"},
        {"email": "nobody@example.org", "password": "whatever password"},
        {"email": "not even an email", "password": ""},
    ):
        r = client.post("/api/v1/auth/login", json=payload)
        assert r.status_code == 401, payload


def test_login_throttled_per_account(client, make_user):
    make_user(email="dee@example.org", password="the right password")
    for _ in range(5):
        assert client.post("/api/v1/auth/login", json={"email": "dee@example.org", "password": "wrong"}).status_code == 401
    r = client.post("/api/v1/auth/login", json={"email": "DEE@example.org", "password": "the right password"})
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    assert r.get_json()["code"] == 429
    # Another account from the same address is not affected by this account's limit.
    make_user(email="eve@example.org", password="eve's password")
    assert client.post("/api/v1/auth/login", json={"email": "eve@example.org", "password": "eve's password"}).status_code == 200


def test_login_throttled_per_address_respects_trusted_proxies(client, make_user, app):
    make_user(email="fay@example.org", password="fay's password")
    limit = int(app.config["LOGIN_LIMIT_PER_ADDRESS"].split()[0])
    for i in range(limit):
        r = client.post(
            "/api/v1/auth/login",
            json={"email": f"guess{i}@example.org", "password": "nope"},
            environ_base={"REMOTE_ADDR": "10.0.0.7"},
        )
        assert r.status_code == 401
    blocked = client.post(
        "/api/v1/auth/login",
        json={"email": "fay@example.org", "password": "fay's password"},
        environ_base={"REMOTE_ADDR": "10.0.0.7"},
    )
    assert blocked.status_code == 429
    # Without trusted proxies a forged X-Forwarded-For does not free the address.
    forged = client.post(
        "/api/v1/auth/login",
        json={"email": "fay@example.org", "password": "fay's password"},
        environ_base={"REMOTE_ADDR": "10.0.0.7"},
        headers={"X-Forwarded-For": "1.2.3.4"},
    )
    assert forged.status_code == 429
    other = client.post(
        "/api/v1/auth/login",
        json={"email": "fay@example.org", "password": "fay's password"},
        environ_base={"REMOTE_ADDR": "10.0.0.8"},
    )
    assert other.status_code == 200


def test_token_problems_are_401(client, make_user, app):
    user = make_user()
    with app.app_context():
        expired = create_access_token(identity=str(user.id), additional_claims={"sid": "x"}, expires_delta=timedelta(seconds=-5))
    for header in ("Bearer abc", "Bearer " + user.access_token[:-3] + "xyz", "Bearer " + expired, "Basic abc", "Bearer"):
        r = client.get("/api/v1/me", headers={"Authorization": header})
        assert r.status_code == 401, header
        assert set(r.get_json()) == {"code", "status", "message", "errors"}
    assert client.get("/api/v1/me").status_code == 401
    # On a public endpoint a missing token is anonymous, but an invalid one is still 401.
    assert client.get("/api/v1/districts").status_code == 200
    assert client.get("/api/v1/districts", headers={"Authorization": "Bearer abc"}).status_code == 401


def test_patch_me(client, make_user):
    user = make_user()
    r = client.patch("/api/v1/me", json={"display_name": "  Neue Name  "}, headers=user.headers)
    assert r.status_code == 200 and r.get_json()["display_name"] == "Neue Name"
    assert client.patch("/api/v1/me", json={"display_name": "x" * 51}, headers=user.headers).status_code == 422
    # Authentication is decided before the body is validated.
    assert client.patch("/api/v1/me", json={"display_name": 5}).status_code == 401


def test_roles_are_additive(client, make_user):
    user = make_user("staff", "moderator")
    assert client.get("/api/v1/me", headers=user.headers).get_json()["roles"] == ["resident", "moderator", "staff"]


def test_a_remembered_token_still_expires(client, make_user, app):
    """Verified tokens are remembered per worker (api/token_cache.py), but never past their expiry."""
    import time

    user = make_user()
    with app.app_context():
        from flask_jwt_extended import decode_token

        sid = decode_token(user.access_token)["sid"]
        short = create_access_token(identity=str(user.id), additional_claims={"sid": sid}, expires_delta=timedelta(seconds=1))
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {short}"}).status_code == 200
    time.sleep(1.2)
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {short}"})
    assert r.status_code == 401 and r.get_json()["code"] == 401
    # And a tampered copy of a remembered token is not accepted either.
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {user.access_token[:-2]}xx"}).status_code == 401


def test_a_token_is_verified_once_per_worker(client, make_user, monkeypatch):
    """The remembered verification (api/token_cache.py) must really be in flask-jwt-extended's path."""
    import jwt as pyjwt

    user = make_user()
    real = pyjwt.decode
    calls = []
    monkeypatch.setattr(pyjwt, "decode", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    fresh = client.post("/api/v1/auth/login", json={"email": user.email, "password": user.password}).get_json()
    headers = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    first = len(calls)
    assert first > 0
    for _ in range(3):
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert len(calls) == first


def test_wrong_credentials_are_401_whatever_their_length(client, make_user):
    """API.md: wrong credentials 401, never a 422 (not even for overlong input)."""
    user = make_user()
    for email, password in ((user.email, "x" * 5000), ("y" * 5000 + "@example.org", "whatever-it-is"),
                            (user.email, "short"), (user.email, ""), (user.email + "\x00", "x\x00y")):
        r = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert r.status_code == 401, (len(email), len(password), r.get_json())
    assert client.post("/api/v1/auth/login", json={"email": user.email, "password": user.password}).status_code == 200
