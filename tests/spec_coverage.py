"""pytest plugin: every answer the test suite sees must be documented in the OpenAPI spec.

Each request that the session's `app` serves is recorded as (method, Flask rule, status). At
the end of the run, operations under /api/v1 that the spec has are checked: a status that
their `responses` do not list fails the run, and so does any 5xx but a documented 503 (a 500
is a bug, never an answer). Schemathesis checks the same for what it generates; this
covers the hand-written scenarios, which reach states (409s, throttles) fuzzing rarely does.
"""
from __future__ import annotations

import pytest
from flask import request, request_finished

from api.openapi_doc import spec_path

PREFIX = "/api/v1/"


class SeenAnswers:
    def __init__(self) -> None:
        self.app = None
        # (METHOD, spec path, status) -> one test that saw it, to start looking from
        self.seen: dict[tuple[str, str, int], str] = {}
        self.current_test = "?"

    def watch(self, app) -> None:
        self.app = app
        request_finished.connect(self._record, app, weak=False)

    def _record(self, sender, response, **extra) -> None:  # noqa: ARG002
        rule = request.url_rule
        if rule is None:
            return
        key = (request.method, spec_path(rule.rule), response.status_code)
        self.seen.setdefault(key, self.current_test)

    def undocumented(self) -> list[str]:
        if self.app is None:
            return []
        with self.app.app_context():
            spec = self.app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
        problems = []
        for (method, path, status), test in sorted(self.seen.items()):
            operation = spec["paths"].get(path, {}).get(method.lower())
            if not path.startswith(PREFIX) or operation is None:
                continue
            documented = str(status) in operation.get("responses", {})
            if status >= 500 and status != 503 or not documented:
                problems.append(f"{method} {path} -> {status} (first seen in {test})")
        return problems


SEEN = SeenAnswers()


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):  # noqa: ARG001
    result = yield
    if fixturedef.argname == "app" and fixturedef.scope == "session" and SEEN.app is None:
        SEEN.watch(result)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):  # noqa: ARG001
    SEEN.current_test = item.nodeid
    return (yield)


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001
    SEEN.problems = SEEN.undocumented()
    if SEEN.problems:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    problems = getattr(SEEN, "problems", [])
    if problems:
        terminalreporter.section("answers missing from the OpenAPI spec", red=True)
        for line in problems:
            terminalreporter.write_line(line)
        terminalreporter.write_line("Document them (api/openapi_doc.py, `@answers(...)` on the route) or fix the route.")
