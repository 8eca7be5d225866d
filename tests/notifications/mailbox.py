"""Test helpers for mail: the memory gateway as a mailbox, drained through the real CLI command."""
from __future__ import annotations

import re

import pytest

from notifications.mail import Mail, MemoryMailGateway

TOKEN = re.compile(r"token=([A-Za-z0-9_\-]+)")


class Mailbox:
    def __init__(self, app):
        self.app = app

    def drain(self) -> list[Mail]:
        """Run `flask notifications drain` once; the mails it sent (all since the last call)."""
        before = len(MemoryMailGateway.sent)
        result = self.app.test_cli_runner().invoke(args=["notifications", "drain"])
        assert result.exit_code == 0, result.output
        return list(MemoryMailGateway.sent[before:])

    def drain_one(self, to: str) -> Mail:
        mails = [m for m in self.drain() if m.to == to]
        assert len(mails) == 1, mails
        return mails[0]

    @staticmethod
    def token(mail: Mail) -> str:
        found = TOKEN.findall(mail.text)
        assert len(found) == 1, mail.text
        return found[0]


@pytest.fixture
def mailbox(clean_app, monkeypatch):
    monkeypatch.setitem(clean_app.config, "MAIL_BACKEND", "memory")
    MemoryMailGateway.clear()
    yield Mailbox(clean_app)
    MemoryMailGateway.clear()
