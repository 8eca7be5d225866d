"""Mail gateways: the log line format, and a real SMTP server (aiosmtpd) on 127.0.0.1."""
from __future__ import annotations

import email
import email.policy
import json
import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select

from api.extensions import db as database
from models.mail import MailMessage
from notifications.mail import LogMailGateway, Mail, SmtpMailGateway, gateway_from_config
from tests.notifications.mailbox import TOKEN


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_log_gateway_writes_one_json_line_per_mail(tmp_path, capsys):
    path = tmp_path / "mail.jsonl"
    gateway = LogMailGateway(str(path))
    gateway.send(Mail("a@example.org", "Grüße", "Zeile 1\nhttp://x/confirm-email?token=abc"))
    gateway.send(Mail("b@example.org", "Two", "second"))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first == {"to": "a@example.org", "subject": "Grüße", "text": "Zeile 1\nhttp://x/confirm-email?token=abc"}
    assert list(first) == ["to", "subject", "text"]

    LogMailGateway(None).send(Mail("c@example.org", "S", "T"))
    assert json.loads(capsys.readouterr().err) == {"to": "c@example.org", "subject": "S", "text": "T"}


def test_log_gateway_through_the_drain(client, clean_app, tmp_path, monkeypatch):
    path = tmp_path / "mail.jsonl"
    monkeypatch.setitem(clean_app.config, "MAIL_LOG_FILE", str(path))
    monkeypatch.setitem(clean_app.config, "MAIL_BACKEND", "log")
    r = client.post("/api/v1/auth/register", json={"email": "log@example.org", "password": "a long password", "display_name": "Lo"})
    assert r.status_code == 201
    assert not path.exists()  # nothing leaves inside the request
    assert clean_app.test_cli_runner().invoke(args=["notifications", "drain"]).exit_code == 0
    (line,) = path.read_text(encoding="utf-8").splitlines()
    mail = json.loads(line)
    assert mail["to"] == "log@example.org"
    (token,) = TOKEN.findall(mail["text"])
    assert client.post("/api/v1/auth/confirm-email", json={"token": token}).status_code == 204


def test_unknown_backend_and_missing_smtp_url_are_refused():
    with pytest.raises(ValueError):
        gateway_from_config({"MAIL_BACKEND": "carrier-pigeon"})
    with pytest.raises(ValueError):
        gateway_from_config({"MAIL_BACKEND": "smtp", "SMTP_URL": None})
    gateway = gateway_from_config({"MAIL_BACKEND": "smtp", "SMTP_URL": "smtps://u%40x:p%3Aw@mail.example.org", "MAIL_FROM": "a@b.c"})
    assert isinstance(gateway, SmtpMailGateway)
    assert (gateway.implicit_tls, gateway.host, gateway.port, gateway.username, gateway.password) == (
        True, "mail.example.org", 465, "u@x", "p:w"
    )


class Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("refused"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self):
        return [email.message_from_bytes(e.original_content, policy=email.policy.default) for e in self.envelopes]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"app" and auth_data.password == b"s3cret")

    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    try:
        yield controller, inbox, logins
    finally:
        controller.stop()


def test_mails_through_a_real_smtp_server(client, clean_app, monkeypatch, smtp_server, make_user):
    controller, inbox, logins = smtp_server
    monkeypatch.setitem(clean_app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(clean_app.config, "SMTP_URL", f"smtp://app:s3cret@127.0.0.1:{controller.port}")
    monkeypatch.setitem(clean_app.config, "MAIL_FROM", "Dortmund Beteiligung <beteiligung@dortmund.example>")
    runner = clean_app.test_cli_runner()

    session = client.post(
        "/api/v1/auth/register", json={"email": "smtp@example.org", "password": "a long password", "display_name": "Sam"}
    ).get_json()
    assert client.post("/api/v1/auth/password-reset", json={"email": "smtp@example.org"}, headers={"Accept-Language": "en"}).status_code == 202
    assert "mail: 2 sent, 0 to retry, 0 given up\n" in runner.invoke(args=["notifications", "drain"]).output
    assert logins == [(b"app", b"s3cret")] * 2

    confirmation, reset = inbox.messages()
    for message in (confirmation, reset):
        assert message["To"] == "smtp@example.org"
        assert message["From"] == "Dortmund Beteiligung <beteiligung@dortmund.example>"
        assert message["Message-ID"] and message["Date"]
    assert confirmation["Subject"] == "Bitte bestätige deine E-Mail-Adresse – Dortmund Beteiligung"
    assert reset["Subject"] == "Reset your password – Dortmund Participation"
    assert [e.rcpt_tos for e in inbox.envelopes] == [["smtp@example.org"]] * 2

    (confirm_token,) = TOKEN.findall(confirmation.get_content())
    assert "/confirm-email?token=" in confirmation.get_content()
    assert client.post("/api/v1/auth/confirm-email", json={"token": confirm_token}).status_code == 204
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {session['access_token']}"}).get_json()
    assert me["email_confirmed"] is True

    (reset_token,) = TOKEN.findall(reset.get_content())
    r = client.post("/api/v1/auth/password-reset/confirm", json={"token": reset_token, "password": "changed by mail"})
    assert r.status_code == 204
    assert client.post("/api/v1/auth/login", json={"email": "smtp@example.org", "password": "changed by mail"}).status_code == 200
    assert runner.invoke(args=["notifications", "drain"]).exit_code == 0
    assert inbox.messages()[-1]["Subject"].startswith("Dein Passwort wurde geändert")


def test_smtp_failures_are_retried_later(client, clean_app, monkeypatch, smtp_server):
    controller, inbox, _ = smtp_server
    monkeypatch.setitem(clean_app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(clean_app.config, "SMTP_URL", f"smtp://app:s3cret@127.0.0.1:{controller.port}")
    client.post("/api/v1/auth/register", json={"email": "refused@example.org", "password": "a long password", "display_name": "Re"})
    r = clean_app.test_cli_runner().invoke(args=["notifications", "drain"])
    assert "mail: 0 sent, 1 to retry, 0 given up\n" in r.output
    assert inbox.envelopes == []
    with clean_app.app_context():
        (row,) = database.session.scalars(select(MailMessage)).all()
        assert row.status == "pending" and row.attempts == 1 and "SMTPRecipientsRefused" in row.last_error
        assert "token=" in row.text  # kept until it is sent
        database.session.remove()

    closed = free_port()
    monkeypatch.setitem(clean_app.config, "SMTP_URL", f"smtp://127.0.0.1:{closed}")
    with clean_app.app_context():
        database.session.execute(MailMessage.__table__.update().values(next_attempt_at=MailMessage.created_at))
        database.session.commit()
        database.session.remove()
    r = clean_app.test_cli_runner().invoke(args=["notifications", "drain"])
    assert "mail: 0 sent, 1 to retry, 0 given up\n" in r.output
