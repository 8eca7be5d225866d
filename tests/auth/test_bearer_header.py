"""`Authorization` headers: the scheme is case-insensitive, and a bearer header without a valid
token is 401 on every endpoint, public ones included."""
from __future__ import annotations

import pytest

PUBLIC = "/api/v1/ideas"
PRIVATE = "/api/v1/me"


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "bearer", "Bearer a.b.c, Bearer d.e.f", "Bearer a b", "BEARER nonsense", "bearer x.y.z"])
def test_bearer_without_one_valid_token_is_401_on_public_and_private_endpoints(client, header):
    for path in (PUBLIC, PRIVATE):
        r = client.get(path, headers={"Authorization": header})
        assert r.status_code == 401, (path, header, r.get_json())
        assert r.get_json()["code"] == 401 and r.headers["WWW-Authenticate"] == "Bearer"


def test_two_valid_tokens_in_one_header_are_refused(client, make_user):
    user = make_user()
    header = f"Bearer {user.access_token}, Bearer {user.access_token}"
    assert client.get(PRIVATE, headers={"Authorization": header}).status_code == 401
    assert client.get(PUBLIC, headers={"Authorization": header}).status_code == 401


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer", "bEaReR"])
def test_scheme_is_case_insensitive_with_a_valid_token(client, make_user, scheme):
    user = make_user()
    r = client.get(PRIVATE, headers={"Authorization": f"{scheme} {user.access_token}"})
    assert r.status_code == 200 and r.get_json()["id"] == user.id
    # On a public endpoint the caller is known too (their own pending idea is listed).
    assert client.get(PUBLIC, headers={"Authorization": f"{scheme} {user.access_token}"}).status_code == 200


def test_other_schemes_are_anonymous_on_public_and_401_on_private(client):
    assert client.get(PUBLIC, headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 200
    assert client.get(PRIVATE, headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401


def test_a_blocked_moderator_changes_nothing(client, make_user, session):
    """A block stops every change, moderators' decisions and blocks included (the access decorator)."""
    from datetime import timedelta

    from models.base import utcnow
    from models.users import User

    moderator = make_user("moderator")
    other = make_user()
    row = session.get(User, moderator.id)
    row.blocked_until = utcnow() + timedelta(days=3)
    session.commit()
    headers = moderator.headers
    r = client.delete(f"/api/v1/moderation/users/{moderator.id}/block", headers=headers)
    assert r.status_code == 403 and r.get_json()["code"] == 403
    assert client.put(f"/api/v1/moderation/users/{other.id}/block", json={"reason": "spam"}, headers=headers).status_code == 403
    r = client.post("/api/v1/moderation/decisions", json={"target_type": "idea", "target_id": 1, "action": "hide", "reason_code": "spam"}, headers=headers)
    assert r.status_code == 403
    assert client.patch("/api/v1/me", json={"display_name": "Neuer Name"}, headers=headers).status_code == 403
    # Reading, following one's interests and logging out remain possible.
    assert client.get("/api/v1/moderation/queue", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204


# --- display names (screened like content; blocks stop renaming) -------------------------------

NAMES_REFUSED = ["0231 5012345", "Ruf an: +49 170 1234567", "Stadt Dortmund", "stadt-dortmund", "Ordnungsamt Dortmund",
                 "Der Oberbürgermeister", "Moderation", "Vollidiot", "anna@example.org"]


@pytest.mark.parametrize("name", NAMES_REFUSED)
def test_display_names_pass_the_prescreen_at_registration_and_rename(client, make_user, name):
    r = client.post("/api/v1/auth/register", json={"email": "new@example.org", "password": "a long password", "display_name": name})
    assert r.status_code == 422 and list(r.get_json()["errors"]) == ["display_name"], r.get_json()
    user = make_user()
    r = client.patch("/api/v1/me", json={"display_name": name}, headers=user.headers)
    assert r.status_code == 422 and list(r.get_json()["errors"]) == ["display_name"]


@pytest.mark.parametrize("name", ["Ayşe aus Hörde", "Jan (Eving)", "Stadtteilmama Nordstadt", "Kim 2009"])
def test_ordinary_names_are_accepted(client, make_user, name):
    r = client.post("/api/v1/auth/register", json={"email": "fine@example.org", "password": "a long password", "display_name": name})
    assert r.status_code == 201, r.get_json()


def test_operators_names_are_not_screened(app, session):
    from models.users import create_or_promote

    user, _ = create_or_promote(session, "ordnungsamt@stadtdo.example", "a long password", "staff")
    session.commit()
    assert user.display_name == "ordnungsamt"


def test_a_block_stops_renaming(client, make_user, session):
    from datetime import timedelta

    from models.base import utcnow
    from models.users import User

    user = make_user()
    session.get(User, user.id).blocked_until = utcnow() + timedelta(days=1)
    session.commit()
    r = client.patch("/api/v1/me", json={"display_name": "Anderer Name"}, headers=user.headers)
    assert r.status_code == 403
