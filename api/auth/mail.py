"""What a mail caused by this request needs from it: the caller's language and the link base."""
from __future__ import annotations

from flask import current_app

from api.extensions import current_lang
from models.account_tokens import MailContext


def mail_context() -> MailContext:
    return MailContext(lang=current_lang(), base_url=current_app.config["PUBLIC_BASE_URL"])
