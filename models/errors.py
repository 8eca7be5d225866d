"""Domain errors: raised by operations in `models/` and mapped to HTTP answers in `api/errors.py`.

Each carries a message key (translated at the edge) so the domain stays free of Flask and of
any one language.
"""
from __future__ import annotations


class DomainError(Exception):
    http_status = 400

    def __init__(self, message_key: str, errors: dict[str, list[str]] | None = None, **params):
        super().__init__(message_key)
        self.message_key = message_key
        self.params = params
        self.errors = errors


class NotFound(DomainError):
    http_status = 404

    def __init__(self, message_key: str = "not_found", **params):
        super().__init__(message_key, **params)


class Forbidden(DomainError):
    http_status = 403


class Conflict(DomainError):
    http_status = 409


class Invalid(DomainError):
    """Input that parses but breaks a domain rule (unknown category, reply to a reply ...)."""

    http_status = 422

    def __init__(self, field: str, message_key: str, **params):
        super().__init__(message_key, errors={field: [message_key]}, **params)
        self.field = field
