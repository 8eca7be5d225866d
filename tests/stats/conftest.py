"""Fixtures of the statistics tests: a clock for the report operations, people, a point per district."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest


class Clock:
    """What `utcnow()` answers in models.reports and models.report_stats (filing, resolving, defaults)."""

    def __init__(self, now: datetime):
        self.now = now

    def set(self, iso: str) -> datetime:
        self.now = datetime.fromisoformat(iso).astimezone(UTC)
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch):
    import models.report_stats
    import models.reports

    clock = Clock(datetime(2026, 6, 15, 10, 0, tzinfo=UTC))
    monkeypatch.setattr(models.reports, "utcnow", lambda: clock.now)
    monkeypatch.setattr(models.report_stats, "utcnow", lambda: clock.now)
    return clock


@pytest.fixture
def people(make_user):
    """A reporter, a second resident, a staff member and a moderator."""

    class People:
        reporter = make_user()
        neighbour = make_user()
        staff = make_user("staff")
        moderator = make_user("moderator")

    return People


@pytest.fixture(scope="session")
def district_points(app) -> dict[str, tuple[float, float]]:
    """A point (lat, lon) inside each district, as the city map assigns it."""
    from models.geography import city_map

    city = city_map(app.config["CITY_BOUNDARY_FILE"], app.config["DISTRICTS_FILE"])
    points = {}
    for slug, geometry in city.districts:
        inside = geometry.representative_point()
        assert city.district_at(inside.y, inside.x) == slug
        points[slug] = (inside.y, inside.x)
    return points


@pytest.fixture(autouse=True)
def no_cached_answers():
    """Each test starts and ends without answers kept by api.cache."""
    import api.cache

    api.cache._answers.clear()
    yield
    api.cache._answers.clear()
