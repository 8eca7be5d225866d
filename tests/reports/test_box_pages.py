"""Newest-first pages of a map box, straight from the domain: every path gives the exact page.

On PostgreSQL a page is first taken from a few ids per cell and falls back to the merged
statement when one cell is so dense that this cannot be known to be exact; both are driven
here, and each page is compared with a brute-force filter.
"""
from __future__ import annotations

import random

from sqlalchemy import insert

from models import reports as domain
from models.base import utcnow
from models.geography import Bounds, page_cell
from models.reports import Report, ReportFilters


def _seed(session, points):
    now = utcnow()
    rows = [
        dict(kind="litter", category="glass", department="edg", description="Scherben", lat=lat, lon=lon, district="innenstadt-west",
             page_cell=page_cell(lat, lon), status="open", visibility="visible", is_public=True, is_open=True, confirmation_count=0,
             helped_count=0, not_helped_count=0, waiting_since=now, created_at=now, updated_at=now, revision=0)
        for lat, lon in points
    ]
    session.execute(insert(Report), rows)
    session.commit()


def _brute(session, box: Bounds) -> list[int]:
    return sorted(
        (r.id for r in session.query(Report).all()
         if box.min_lat <= r.lat <= box.max_lat and box.min_lon <= r.lon <= box.max_lon and r.is_public),
        reverse=True,
    )


def test_box_pages_are_exact_with_one_dense_cell_and_sparse_others(app, session, monkeypatch):
    rng = random.Random(7)
    box = Bounds(7.4581, 51.5091, 7.4725, 51.5181)
    # 80 reports crowded into one corner cell, 40 spread over the rest of the box, shuffled in time.
    dense = [(51.5092 + rng.random() * 0.0005, 7.4582 + rng.random() * 0.0005) for _ in range(80)]
    sparse = [(box.min_lat + rng.random() * (box.max_lat - box.min_lat), box.min_lon + rng.random() * (box.max_lon - box.min_lon)) for _ in range(40)]
    points = dense + sparse
    rng.shuffle(points)
    _seed(session, points)
    merged_calls = []
    original = domain.BOX_KEYS.rows
    monkeypatch.setattr(domain.BOX_KEYS, "rows", lambda *a, **k: merged_calls.append(1) or original(*a, **k))
    expected = _brute(session, box)
    walks = []
    walk = domain.CELL_WALK.rows
    monkeypatch.setattr(domain.CELL_WALK, "rows", lambda *a, **k: walks.append(1) or walk(*a, **k))
    city = domain.policy_from_config(app.config).city
    for limit in (3, 10, 50):
        seen, after = [], None
        while True:
            rows = domain.box_page_keys(session, city, box, ReportFilters(), limit, after)
            page = [row[0] for row in rows]
            assert page == sorted(page, reverse=True)
            seen += page[:limit]
            if len(page) <= limit:
                break
            after = page[limit - 1]
        assert seen == expected, limit
    if session.get_bind().dialect.name == "postgresql":
        # The dense cell made some pages fall back to the merged statement, and not all of them.
        assert merged_calls, "the fallback was never needed"
        assert len(merged_calls) < len(walks), "every page fell back"
