"""Password reset, password change and e-mail confirmation (issue 8, points 14-16)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from api.extensions import db as database
from models.account_tokens import EMAIL_CONFIRMATION, PASSWORD_RESET, AccountToken, outstanding
from models.base import utcnow
from models.mail import MailMessage
from models.users import User
from tests.idea_flow import IDEA
from tests.notifications.mailbox import Mailbox, mailbox  # noqa: F401 - fixture

NEW_PASSWORD = "a brand new password"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def register(client, email="ana@example.org", password="ana's password", **headers) -> dict:
    r = client.post(
        "/api/v1/auth/register", json={"email": email, "password": password, "display_name": "Ana"}, headers=headers
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def login(client, email, password):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def ask_reset(client, email, **headers):
    return client.post("/api/v1/auth/password-reset", json={"email": email}, headers=headers)


def confirm_reset(client, token, password=NEW_PASSWORD):
    return client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": password})


def expire_tokens(clean_app, user_id: int, purpose: str) -> None:
    with clean_app.app_context():
        database.session.execute(
            update(AccountToken)
            .where(AccountToken.user_id == user_id, AccountToken.purpose == purpose)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        database.session.commit()
        database.session.remove()


# --- password reset -----------------------------------------------------------------------------


def test_password_reset_end_to_end(client, make_user, mailbox: Mailbox, clean_app):
    user = make_user(email="bo@example.org", password="bo's old password")
    second = login(client, "bo@example.org", "bo's old password").get_json()

    r = ask_reset(client, "BO@example.org")
    assert r.status_code == 202 and r.get_data() == b""
    mail = mailbox.drain_one("bo@example.org")
    assert "/reset-password?token=" in mail.text and mail.text.startswith("Hallo")
    assert mail.subject.startswith("Passwort zurücksetzen")
    token = mailbox.token(mail)
    assert mail.text.count(f"http://127.0.0.1:5000/reset-password?token={token}") == 1

    assert confirm_reset(client, token).status_code == 204
    # Every login session of the account is over, access and refresh tokens alike.
    assert client.get("/api/v1/me", headers=user.headers).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(second["access_token"])).status_code == 401
    assert client.post("/api/v1/auth/refresh", headers=bearer(second["refresh_token"])).status_code == 401
    assert login(client, "bo@example.org", "bo's old password").status_code == 401
    assert login(client, "bo@example.org", NEW_PASSWORD).status_code == 200

    notice = mailbox.drain_one("bo@example.org")
    assert notice.subject.startswith("Dein Passwort wurde geändert")
    assert "token=" not in notice.text

    # Single use.
    again = confirm_reset(client, token, "yet another password")
    assert again.status_code == 422 and list(again.get_json()["errors"]) == ["token"]
    assert login(client, "bo@example.org", NEW_PASSWORD).status_code == 200

    # Neither the token nor the mail text stays readable in the database.
    with clean_app.app_context():
        hashes = database.session.scalars(select(AccountToken.token_hash)).all()
        assert token not in hashes and all(len(h) == 64 for h in hashes)
        texts = database.session.scalars(select(MailMessage.text)).all()
        assert texts and all(t == "" for t in texts)


def test_reset_mails_in_english_when_asked_in_english(client, make_user, mailbox):
    make_user(email="en@example.org")
    assert ask_reset(client, "en@example.org", **{"Accept-Language": "en"}).status_code == 202
    mail = mailbox.drain_one("en@example.org")
    assert mail.subject.startswith("Reset your password") and mail.text.startswith("Hello")
    assert confirm_reset(client, mailbox.token(mail)).status_code == 204
    # The notice is in the language of the request that changed the password (German here).
    assert mailbox.drain_one("en@example.org").subject.startswith("Dein Passwort")


def test_unknown_address_gets_the_same_answer(client, make_user, mailbox):
    make_user(email="known@example.org")
    known = ask_reset(client, "known@example.org")
    unknown = ask_reset(client, "nobody@example.org")
    malformed = ask_reset(client, "not an address")
    for r in (unknown, malformed):
        assert r.status_code == known.status_code == 202
        assert r.get_data() == known.get_data()
        assert sorted(r.headers.keys()) == sorted(known.headers.keys())
    assert [m.to for m in mailbox.drain()] == ["known@example.org"]


def test_reset_token_expires_after_an_hour(client, make_user, mailbox, clean_app):
    user = make_user(email="late@example.org")
    ask_reset(client, "late@example.org")
    token = mailbox.token(mailbox.drain_one("late@example.org"))
    with clean_app.app_context():
        (row,) = outstanding(database.session, user.id, PASSWORD_RESET)
        assert timedelta(minutes=59) < row.expires_at - utcnow() <= timedelta(hours=1)
        database.session.remove()
    expire_tokens(clean_app, user.id, PASSWORD_RESET)
    r = confirm_reset(client, token)
    assert r.status_code == 422 and list(r.get_json()["errors"]) == ["token"]
    assert login(client, "late@example.org", user.password).status_code == 200


@pytest.mark.parametrize("token", ["made-up", "x" * 201, ""])
def test_unknown_or_malformed_token_is_422_on_token(client, token):
    r = confirm_reset(client, token)
    assert r.status_code == 422 and list(r.get_json()["errors"]) == ["token"]


def test_new_password_follows_the_registration_policy(client, make_user, mailbox):
    make_user(email="pw@example.org")
    ask_reset(client, "pw@example.org")
    token = mailbox.token(mailbox.drain_one("pw@example.org"))
    for bad in ("short", "x" * 257):
        r = confirm_reset(client, token, bad)
        assert r.status_code == 422 and list(r.get_json()["errors"]) == ["password"]
    # A refused password did not use up the link.
    assert confirm_reset(client, token).status_code == 204


def test_a_password_change_voids_outstanding_reset_links(client, make_user, mailbox):
    make_user(email="two@example.org")
    ask_reset(client, "two@example.org")
    ask_reset(client, "two@example.org")
    first, second = (mailbox.token(m) for m in mailbox.drain())
    assert confirm_reset(client, second).status_code == 204
    assert confirm_reset(client, first, "and another password").status_code == 422

    # ... and so does a change with the old password.
    ask_reset(client, "two@example.org")
    (link,) = [m for m in mailbox.drain() if "token=" in m.text]
    session = login(client, "two@example.org", NEW_PASSWORD).get_json()
    r = client.post(
        "/api/v1/me/password",
        json={"old_password": NEW_PASSWORD, "new_password": "the third password"},
        headers=bearer(session["access_token"]),
    )
    assert r.status_code == 204
    assert confirm_reset(client, mailbox.token(link)).status_code == 422


def test_reset_requests_are_throttled_per_account_silently_and_per_address_with_429(client, make_user, mailbox, clean_app, monkeypatch):
    monkeypatch.setitem(clean_app.config, "PASSWORD_RESET_LIMIT_PER_ACCOUNT", "2 per hour")
    monkeypatch.setitem(clean_app.config, "PASSWORD_RESET_LIMIT_PER_ADDRESS", "5 per hour")
    make_user(email="spam@example.org")
    answers = [ask_reset(client, "spam@example.org") for _ in range(4)]
    assert [r.status_code for r in answers] == [202] * 4
    assert len({r.get_data() for r in answers}) == 1
    assert len(mailbox.drain()) == 2
    assert ask_reset(client, "other@example.org").status_code == 202
    r = ask_reset(client, "third@example.org")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert r.get_json()["code"] == 429


# --- password change ----------------------------------------------------------------------------


def test_change_password_keeps_this_session_and_ends_the_others(client, make_user, mailbox):
    user = make_user(email="chg@example.org", password="the old password")
    other = login(client, "chg@example.org", "the old password").get_json()
    r = client.post(
        "/api/v1/me/password", json={"old_password": "the old password", "new_password": NEW_PASSWORD}, headers=user.headers
    )
    assert r.status_code == 204
    assert client.get("/api/v1/me", headers=user.headers).status_code == 200
    assert client.get("/api/v1/me", headers=bearer(other["access_token"])).status_code == 401
    assert login(client, "chg@example.org", NEW_PASSWORD).status_code == 200
    notice = mailbox.drain_one("chg@example.org")
    assert notice.subject.startswith("Dein Passwort wurde geändert")


def test_change_password_needs_the_right_old_one(client, make_user, mailbox):
    user = make_user(password="the old password")
    r = client.post("/api/v1/me/password", json={"old_password": "wrong guess", "new_password": NEW_PASSWORD}, headers=user.headers)
    assert r.status_code == 422 and list(r.get_json()["errors"]) == ["old_password"]
    r = client.post("/api/v1/me/password", json={"old_password": "the old password", "new_password": "short"}, headers=user.headers)
    assert r.status_code == 422 and list(r.get_json()["errors"]) == ["new_password"]
    assert client.post("/api/v1/me/password", json={"old_password": "x", "new_password": NEW_PASSWORD}).status_code == 401
    assert login(client, user.email, "the old password").status_code == 200
    assert mailbox.drain() == []


# --- e-mail confirmation ------------------------------------------------------------------------


def test_registration_mails_a_confirmation_link(client, mailbox):
    session = register(client, email="new@example.org")
    assert session["user"]["email_confirmed"] is False
    mail = mailbox.drain_one("new@example.org")
    assert "/confirm-email?token=" in mail.text and mail.subject.startswith("Bitte bestätige")
    token = mailbox.token(mail)

    r = client.post("/api/v1/auth/confirm-email", json={"token": token})
    assert r.status_code == 204
    assert client.get("/api/v1/me", headers=bearer(session["access_token"])).get_json()["email_confirmed"] is True
    again = client.post("/api/v1/auth/confirm-email", json={"token": token})
    assert again.status_code == 422 and list(again.get_json()["errors"]) == ["token"]


def test_confirmation_mail_in_english(client, mailbox):
    register(client, email="eng@example.org", **{"Accept-Language": "en"})
    mail = mailbox.drain_one("eng@example.org")
    assert mail.subject.startswith("Please confirm your e-mail address") and "/confirm-email?token=" in mail.text


def test_confirmation_link_expires_after_seven_days(client, mailbox, clean_app):
    session = register(client, email="slow@example.org")
    token = mailbox.token(mailbox.drain_one("slow@example.org"))
    with clean_app.app_context():
        (row,) = outstanding(database.session, session["user"]["id"], EMAIL_CONFIRMATION)
        assert timedelta(days=7) - timedelta(minutes=1) < row.expires_at - utcnow() <= timedelta(days=7)
        database.session.remove()
    expire_tokens(clean_app, session["user"]["id"], EMAIL_CONFIRMATION)
    r = client.post("/api/v1/auth/confirm-email", json={"token": token})
    assert r.status_code == 422 and list(r.get_json()["errors"]) == ["token"]
    assert client.post("/api/v1/auth/confirm-email", json={"token": "unknown"}).status_code == 422
    # A reset token is no confirmation token.
    ask_reset(client, "slow@example.org")
    reset = mailbox.token(mailbox.drain_one("slow@example.org"))
    assert client.post("/api/v1/auth/confirm-email", json={"token": reset}).status_code == 422


def test_resend_confirmation(client, mailbox, clean_app, monkeypatch):
    monkeypatch.setitem(clean_app.config, "CONFIRM_RESEND_LIMIT_PER_ACCOUNT", "2 per hour")
    session = register(client, email="re@example.org")
    headers = bearer(session["access_token"])
    mailbox.drain()
    assert client.post("/api/v1/auth/confirm-email/resend").status_code == 401
    r = client.post("/api/v1/auth/confirm-email/resend", headers=headers)
    assert r.status_code == 202
    token = mailbox.token(mailbox.drain_one("re@example.org"))
    assert client.post("/api/v1/auth/confirm-email/resend", headers=headers).status_code == 202
    r = client.post("/api/v1/auth/confirm-email/resend", headers=headers)
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert client.post("/api/v1/auth/confirm-email", json={"token": token}).status_code == 204
    # Confirmed: nothing to send, still 202 (and no throttle to hit).
    mailbox.drain()
    assert client.post("/api/v1/auth/confirm-email/resend", headers=headers).status_code == 202
    assert mailbox.drain() == []


def test_operators_accounts_count_as_confirmed(clean_app, client):
    runner = clean_app.test_cli_runner()
    r = runner.invoke(args=["users", "create", "--email", "op@example.org", "--password", "operator password", "--role", "staff"])
    assert r.exit_code == 0, r.output
    tokens = login(client, "op@example.org", "operator password").get_json()
    assert tokens["user"]["email_confirmed"] is True


# --- REQUIRE_CONFIRMED_EMAIL -------------------------------------------------------------------


def test_contributing_waits_for_a_confirmed_address_when_required(client, mailbox, clean_app, monkeypatch, make_user):
    monkeypatch.setitem(clean_app.config, "REQUIRE_CONFIRMED_EMAIL", True)
    monkeypatch.setitem(clean_app.config, "PREMODERATE_IDEAS", False)
    session = register(client, email="wait@example.org")
    headers = bearer(session["access_token"])
    r = client.post("/api/v1/ideas", json=IDEA, headers=headers)
    assert r.status_code == 403
    assert r.get_json()["message"].startswith("Bitte bestätige zuerst deine E-Mail-Adresse")
    r = client.post("/api/v1/ideas", json=IDEA, headers={**headers, "Accept-Language": "en"})
    assert r.status_code == 403 and r.get_json()["message"].startswith("Please confirm your e-mail address first")
    # Reading, following and one's own account stay open.
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    author = make_user(email="author@example.org")
    with clean_app.app_context():
        database.session.execute(update(User).where(User.id == author.id).values(email_confirmed_at=utcnow()))
        database.session.commit()
        database.session.remove()
    idea = client.post("/api/v1/ideas", json=IDEA, headers=author.headers)
    assert idea.status_code == 201, idea.get_json()
    idea_id = idea.get_json()["id"]
    assert client.put(f"/api/v1/ideas/{idea_id}/support", headers=headers).status_code == 403
    assert client.post(f"/api/v1/ideas/{idea_id}/comments", json={"body": "Gute Idee!"}, headers=headers).status_code == 403
    flag = {"target_type": "idea", "target_id": idea_id, "reason": "spam"}
    assert client.post("/api/v1/flags", json=flag, headers=headers).status_code == 403

    token = mailbox.token(mailbox.drain_one("wait@example.org"))
    assert client.post("/api/v1/auth/confirm-email", json={"token": token}).status_code == 204
    assert client.post("/api/v1/ideas", json=IDEA, headers=headers).status_code == 201
    assert client.put(f"/api/v1/ideas/{idea_id}/support", headers=headers).status_code == 204


def test_unconfirmed_accounts_contribute_while_not_required(client, mailbox, clean_app, monkeypatch):
    monkeypatch.setitem(clean_app.config, "REQUIRE_CONFIRMED_EMAIL", False)
    session = register(client, email="free@example.org")
    r = client.post("/api/v1/ideas", json=IDEA, headers=bearer(session["access_token"]))
    assert r.status_code == 201



def test_unencodable_passwords_are_refused_not_500(client, make_user):
    # Lone surrogates cannot be hashed; the house body parser refuses them (400).
    user = make_user()
    for body in (
        {"old_password": "x\ud800y", "new_password": NEW_PASSWORD},
        {"old_password": user.password, "new_password": "long enough \udfff"},
    ):
        assert client.post("/api/v1/me/password", json=body, headers=user.headers).status_code == 400
    assert confirm_reset(client, "some-token", "long enough \ud800").status_code == 400
    assert ask_reset(client, "a\ud800@example.org").status_code == 400
    assert client.get("/api/v1/me", headers=user.headers).status_code == 200
