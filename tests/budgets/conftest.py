"""Helpers for budget-vote tests: members, rounds and items through the HTTP API."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from models.budgets import berlin_today

API = "/api/v1"


class Budgets:
    def __init__(self, client, make_user):
        self.client = client
        self.make_user = make_user
        self.admin = make_user("admin")
        self.staff = make_user("staff")

    def member(self, slug="jugendparlament", start: date | None = None, end: date | None = None, user=None):
        user = user or self.make_user()
        today = berlin_today()
        start = start or today - timedelta(days=30)
        end = end or today + timedelta(days=30)
        r = self.client.put(
            f"{API}/bodies/{slug}/members/{user.id}",
            json={"term_start": start.isoformat(), "term_end": end.isoformat()},
            headers=self.admin.headers,
        )
        assert r.status_code == 204, r.get_json()
        return user

    def round(self, slug="jugendparlament", status="draft", items=(), **overrides):
        body = {
            "title": "Jugendbudget 2026",
            "budget": 100,
            "ballot": {"type": "approval"},
            "rule": "greedy",
        }
        body.update(overrides)
        r = self.client.post(f"{API}/bodies/{slug}/rounds", json=body, headers=self.staff.headers)
        assert r.status_code == 201, r.get_json()
        rnd = r.get_json()
        for title, cost in items:
            self.item(rnd["id"], title, cost)
        path = {"draft": [], "proposals": ["proposals"], "voting": ["voting"], "closed": ["voting", "closed"],
                "published": ["voting", "closed", "published"]}[status]
        for to in path:
            self.transition(rnd["id"], to)
        return self.get(rnd["id"])

    def get(self, round_id):
        return self.client.get(f"{API}/rounds/{round_id}", headers=self.staff.headers).get_json()

    def item(self, round_id, title="Skatepark", cost=10, user=None, **kw):
        r = self.client.post(
            f"{API}/rounds/{round_id}/items",
            json={"title": title, "description": "Beschreibung", "cost": cost},
            headers=(user or self.staff).headers,
            **kw,
        )
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def transition(self, round_id, to, expect=200):
        r = self.client.post(f"{API}/rounds/{round_id}/transition", json={"to": to}, headers=self.staff.headers)
        assert r.status_code == expect, r.get_json()
        return r.get_json()

    def vote(self, round_id, user, expect=200, **body):
        r = self.client.put(f"{API}/rounds/{round_id}/ballot", json=body, headers=user.headers)
        assert r.status_code == expect, r.get_json()
        return r.get_json()


@pytest.fixture
def bud(client, make_user):
    return Budgets(client, make_user)


@pytest.fixture
def run_in_parallel(request):
    """`run_in_parallel` from tests/conftest.py (its module name is not importable from here)."""
    for plugin in request.config.pluginmanager.get_plugins():
        path = str(getattr(plugin, "__file__", "") or "")
        if path.replace("\\", "/").endswith("/tests/conftest.py") and hasattr(plugin, "run_in_parallel"):
            return plugin.run_in_parallel
    raise LookupError("run_in_parallel not found in tests/conftest.py")
