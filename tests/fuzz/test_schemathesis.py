"""Schemathesis against the app in process: every operation, valid and invalid input, hostile values.

Generated requests come from the spec (positive and negative modes); hooks then swap in, now
and then, the values that have broken this stack before: nesting past the recursion limit,
integers beyond the int-string limit, lone surrogates, NUL bytes, datetimes at the calendar's
ends and ids beyond 32 and 64 bits (in bodies, paths and cursors). Every answer must be no
5xx, a documented status, of the documented media type and matching its schema.

Bounded to about a minute per database on two cores: FUZZ_EXAMPLES (default 100) per operation.
"""
from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import assume, HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

EXTREME_TIMES = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]
HUGE_IDS = [2**31, 2**63, -(2**63) - 1]
HOSTILE_STRINGS = ["\ud800", "a\udfffb", "\x00", "a\x00b", *EXTREME_TIMES]
HOSTILE_VALUES = [*HOSTILE_STRINGS, *HUGE_IDS, 5.5, "5"]
# A URL cannot carry a lone surrogate at all (the client cannot encode one).
HOSTILE_URL_VALUES = [v for v in HOSTILE_VALUES if not (isinstance(v, str) and any("\ud800" <= c <= "\udfff" for c in v))]
LONG_INTEGER = "9" * 5000


def _deep(depth: int):
    # Deeper than any body the API takes; at 600 still within the client encoder's recursion.
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def _cursor(kind: str, values: list) -> str:
    raw = json.dumps([kind, values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


HOSTILE_CURSORS = [
    _cursor(kind, [huge] * arity)
    for kind, arity in (("ideas-new", 1), ("ideas-top", 2), ("comments", 1), ("moderation-log", 1), ("queue", 1), ("budget_rounds", 1),
                        ("notifications", 1), ("news", 1), ("reports-new", 1), ("reports-waiting", 2), ("my-reports", 1))
    for huge in HUGE_IDS
]


def _replace_one(data: dict, draw_index: int, value):
    if not data:
        return data
    key = sorted(data)[draw_index % len(data)]
    return {**data, key: value}


@schemathesis.hook
def flatmap_body(context, body):
    if not isinstance(body, dict):
        return st.just(body)
    raw = json.dumps(body)
    first = next(iter(body), None)
    as_text = (
        [raw.replace(json.dumps(body[first]), LONG_INTEGER, 1).encode(), raw.replace(json.dumps(body[first]), "NaN", 1).encode()]
        if first is not None
        else []
    )
    return st.one_of(
        st.just(body),
        st.just(body),
        st.tuples(st.integers(0, 20), st.sampled_from([*HOSTILE_VALUES, _deep(40), _deep(600)])).map(lambda t: _replace_one(body, *t)),
        # Raw text: past the interpreter's recursion limit, or beyond what `json` can write.
        st.sampled_from([*as_text, ("[" * 3000 + "]" * 3000).encode()]),
    )


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    if not path_parameters:
        return st.just(path_parameters)
    return st.one_of(
        st.just(path_parameters),
        st.tuples(st.integers(0, 5), st.sampled_from([*HUGE_IDS, "\x00", "a\x00b"])).map(
            lambda t: _replace_one(path_parameters, *t)
        ),
    )


@schemathesis.hook
def flatmap_query(context, query):
    if not isinstance(query, dict):
        return st.just(query)
    return st.one_of(
        st.just(query),
        st.sampled_from(HOSTILE_CURSORS).map(lambda c: {**query, "cursor": c}),
        st.tuples(st.integers(0, 10), st.sampled_from(HOSTILE_URL_VALUES)).map(lambda t: _replace_one(query, *t)),
    )


@pytest.fixture
def admin_headers(make_user):
    # An admin passes every role check, so generated requests get past 401/403 to the input.
    return make_user("admin", "moderator", "staff").headers


# The exported spec (kept equal to the code's by tests/test_conventions.py): operations must be
# known when tests are collected, before the session's app exists.
schema = schemathesis.openapi.from_path(Path(__file__).resolve().parents[2] / "openapi" / "openapi.json")
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
def test_api_answers_as_documented(case, clean_app, admin_headers):
    # A multipart body cannot carry a lone surrogate either (the client cannot encode one).
    assume(not (case.media_type == "multipart/form-data" and _has_surrogate(case.body)))
    case.call_and_validate(app=clean_app, headers=admin_headers, checks=CHECKS)


def _has_surrogate(value) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_surrogate(v) for v in value)
    return False
