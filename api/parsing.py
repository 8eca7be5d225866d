"""The one JSON body parser, and the Blueprint whose arguments go through it.

Python's `json` module fails on some valid-looking documents in ways that are not
`JSONDecodeError` (so webargs would let them through as a 500): nesting deeper than the
interpreter's recursion limit (RecursionError), integers longer than the int-string limit
(ValueError). It also accepts what no database stores and no JSON encoder writes back: lone
UTF-16 surrogates (`"\\ud800"`), and the non-standard constants `NaN` and `Infinity`. All of
these are a malformed body here: 400 in the API's error shape, before any schema runs.
"""
from __future__ import annotations

import json
import re

import flask_smorest
from flask.json.provider import DefaultJSONProvider
from webargs.core import missing
from webargs.flaskparser import FlaskParser, is_json_request

FORM_MEDIA_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
# Deeper than any body this API takes, far below the interpreter's recursion limit.
MAX_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


class MalformedJSON(json.JSONDecodeError):
    def __init__(self, reason: str):
        super().__init__(reason, "(request body)", 0)


def _refuse_constant(name: str):
    raise MalformedJSON(f"{name} is not JSON")


def parse_json(data: bytes | str):
    """Decode a request body; every failure is a `json.JSONDecodeError` (a 400 upstream)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedJSON("not UTF-8") from exc
    try:
        document = json.loads(data, parse_constant=_refuse_constant)
    except RecursionError:
        raise MalformedJSON("nested too deeply") from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # integers beyond the int-string limit
        raise MalformedJSON("number too long") from exc
    _check(document)
    return document


def _check(document) -> None:
    """Depth and lone surrogates, walked without recursion."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise MalformedJSON("lone surrogate")
        elif isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise MalformedJSON("nested too deeply")
            if isinstance(value, dict):
                for key, item in value.items():
                    if _SURROGATE.search(key):
                        raise MalformedJSON("lone surrogate")
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)


class BodyParser(FlaskParser):
    """webargs' Flask parser with the body decoded by `parse_json` (its public `load_json`)."""

    def load_json(self, req, schema):
        if not is_json_request(req):
            # Only views marked with `accepts(...)` get this far with a form (415 otherwise,
            # api._init_request_conventions): their text fields are the body.
            if req.mimetype in FORM_MEDIA_TYPES:
                return self.load_form(req, schema)
            return missing
        data = req.get_data(cache=True)
        if not data:
            return missing
        try:
            return parse_json(data)
        except json.JSONDecodeError as exc:
            self._handle_invalid_json_error(exc, req)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with the house's body parser (its documented extension point)."""

    ARGUMENTS_PARSER = BodyParser()


def accepts(*media_types: str, max_content_length: str | None = None):
    """Body types a view takes besides JSON (photo uploads: `multipart/form-data`), and the
    setting naming its body-size cap (bodies are 1 MB elsewhere). Read before the view runs
    (api._init_request_conventions): 415 and 413 come before any byte is parsed."""

    def decorate(view):
        view.accepted_media_types = ("application/json", *media_types)
        view.max_content_length_setting = max_content_length
        return view

    return decorate


class JSONProvider(DefaultJSONProvider):
    """`request.get_json()` decodes through the same parser as the schemas' bodies."""

    def loads(self, s, **kwargs):
        return parse_json(s)
