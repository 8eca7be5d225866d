"""Newest-first pages of a map box, straight from the domain: every page is exact.

A box's cells are merged in one statement (SQLite: ids from the arms, then the key rows;
PostgreSQL: key rows from each arm's own ordered, limited walk). A dense cell beside sparse
ones, boxes cutting through cells, and cursors: each page is compared with a brute-force filter.
"""
from __future__ import annotations

import random

from sqlalchemy import insert

from models import reports as domain
from models.base import utcnow
from models.geography import Bounds, page_cell, page_cells
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
    shapes = []
    original = domain.BOX_KEYS.rows
    monkeypatch.setattr(domain.BOX_KEYS, "rows", lambda session, shape, params: shapes.append(shape) or original(session, shape, params))
    expected = _brute(session, box)
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
    # The box cuts through more than one cell, and each page was merged from all of them.
    assert {shape[0] for shape in shapes} == {len(page_cells(box))} and len(page_cells(box)) > 1
    assert all(shape[4] == (session.get_bind().dialect.name == "postgresql") for shape in shapes)


def test_the_grid_migration_files_reports_into_the_cells_the_code_asks_for(app, session):
    """Migration 0011 recomputes page_cell in SQL; it must agree with models.geography to the last bit."""
    import importlib.util
    from pathlib import Path

    from sqlalchemy import select, text

    from models.geography import PAGE_CELL_LAT, PAGE_CELL_LON

    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0011_page_grid.py"
    spec = importlib.util.spec_from_file_location("page_grid_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    rng = random.Random(11)
    # Random points, and points on and a hair beside the grid lines, where rounding would show.
    points = [(51.41 + rng.random() * 0.19, 7.30 + rng.random() * 0.34) for _ in range(300)]
    for row in range(14141, 14161):
        for column in range(11707, 11728, 2):
            lat, lon = row * PAGE_CELL_LAT - 90.0, column * PAGE_CELL_LON - 180.0
            points += [(lat, lon), (lat + 1e-12, lon - 1e-12), (lat - 1e-12, lon + 1e-12)]
    _seed(session, points)
    session.execute(text(migration.recompute_statement(session.get_bind().dialect.name, PAGE_CELL_LAT, PAGE_CELL_LON)))
    rows = session.execute(select(Report.id, Report.lat, Report.lon, Report.page_cell)).all()
    assert len(rows) > 300
    assert [r.page_cell for r in rows] == [page_cell(r.lat, r.lon) for r in rows]


def test_only_value_independent_map_plans_run_on_connections_that_keep_generic_plans(app, session, monkeypatch):
    """The merged walk would be re-planned on every run; a large box's walk by id needs plans for its values (api.extensions)."""
    import pytest
    from sqlalchemy import text

    from api.extensions import db

    if session.get_bind().dialect.name != "postgresql":
        assert db.generic_plan_session() is None
        pytest.skip("a PostgreSQL setting")
    assert session.execute(text("SHOW plan_cache_mode")).scalar() == "auto"
    generic = db.generic_plan_session()
    assert generic.execute(text("SHOW plan_cache_mode")).scalar() == "force_generic_plan"
    used = []
    original = domain.BOX_KEYS.rows
    monkeypatch.setattr(domain.BOX_KEYS, "rows", lambda s, shape, params: used.append((s is generic, shape[0])) or original(s, shape, params))
    _seed(session, [(51.5136, 7.4653)])
    city = domain.policy_from_config(app.config).city
    box = Bounds(7.4581, 51.5091, 7.4725, 51.5181)
    half_the_city = Bounds(city.bounds.min_lon, city.bounds.min_lat, (city.bounds.min_lon + city.bounds.max_lon) / 2, city.bounds.max_lat)
    pages = [domain.box_page_keys(session, city, b, ReportFilters(), 10, None, merge_session=generic) for b in (box, None, half_the_city)]
    # The merge and the whole city on generic plans; a large box's walk by id planned for its values.
    assert used == [(True, len(page_cells(box))), (True, 0), (False, 0)]
    assert [len(p) for p in pages] == [1, 1, 1]
