"""Mail gateways: how a rendered mail leaves the system, chosen by `MAIL_BACKEND`.

- `log` (default): one JSON line `{"to", "subject", "text"}` per mail, appended to
  `MAIL_LOG_FILE` (stderr without one). Enough for development and for reading links.
- `smtp`: `SMTP_URL` (`smtp://user:pass@host:port`, STARTTLS whenever the server offers it;
  `smtps://` for TLS from the first byte), sender `MAIL_FROM`.
- `memory`: kept in this process, for tests (`MemoryMailGateway.sent`).

A gateway raises on failure; the worker retries later (notifications.worker).
"""
from __future__ import annotations

import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Protocol

from .jsonlines import JsonLines
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str


class MailGateway(Protocol):
    def send(self, mail: Mail) -> None: ...


class LogMailGateway:
    def __init__(self, path: str | None = None):
        self.path = path
        self._lines = JsonLines(path)

    def send(self, mail: Mail) -> None:
        self._lines.write([{"to": mail.to, "subject": mail.subject, "text": mail.text}])


class MemoryMailGateway:
    """Mails kept in a list shared by the whole process, so tests see what a drain sent."""

    sent: list[Mail] = []
    _lock = threading.Lock()

    def send(self, mail: Mail) -> None:
        with self._lock:
            type(self).sent.append(mail)

    @classmethod
    def clear(cls) -> None:
        with cls._lock:
            cls.sent.clear()


class SmtpMailGateway:
    TIMEOUT_SECONDS = 30

    def __init__(self, url: str, sender: str):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:pass@host:port or smtps://...")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 587)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else ""
        self.sender = sender

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.implicit_tls:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.TIMEOUT_SECONDS, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.TIMEOUT_SECONDS)
        try:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, mail: Mail) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=parseaddr(self.sender)[1].rpartition("@")[2] or None)
        message.set_content(mail.text)
        with self._connect() as smtp:
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)


def gateway_from_config(config) -> MailGateway:
    backend = config.get("MAIL_BACKEND", "log")
    if backend == "log":
        return LogMailGateway(config.get("MAIL_LOG_FILE"))
    if backend == "memory":
        return MemoryMailGateway()
    if backend == "smtp":
        if not config.get("SMTP_URL"):
            raise ValueError("MAIL_BACKEND=smtp needs SMTP_URL")
        return SmtpMailGateway(config["SMTP_URL"], config.get("MAIL_FROM") or "noreply@localhost")
    raise ValueError(f"unknown MAIL_BACKEND {backend!r} (log, smtp or memory)")
