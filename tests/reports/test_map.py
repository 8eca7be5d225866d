"""Reports, issue 10: the map. Box pages (cell-union and scan paths), GeoJSON, clusters with kept
counts, nearby; every answer compared with a brute-force filter over all reports."""
from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from models.geography import (
    Bounds,
    cluster_cell,
    cluster_cell_range,
    distance_m,
    page_cell_count,
)
from tests.reports import helpers
from tests.reports.helpers import ALTER_MARKT, LITTER, PHOENIX_SEE, UNSAFE

API = "/api/v1"
BASE_CATEGORIES = {
    "litter": ["illegal_dumping", "bulky_waste", "glass", "graffiti"],
    "unsafe_place": ["poor_lighting", "overgrown_path"],
}


def file_report(client, user, point, **overrides):
    base = UNSAFE if overrides.get("kind") == "unsafe_place" else LITTER
    return helpers.file_report(client, user, base=base, lat=point[0], lon=point[1], **overrides)


def decide(client, moderator, report_id, action):
    r = client.post(
        f"{API}/moderation/decisions",
        json={"target_type": "report", "target_id": report_id, "action": action, "reason_code": "ok" if action in ("approve", "restore") else "spam"},
        headers=moderator.headers,
    )
    assert r.status_code == 201, r.get_json()


def advance(client, staff, report_id, status, **extra):
    r = client.post(f"{API}/reports/{report_id}/updates", json={"status": status, "note": "Stand der Dinge.", **extra}, headers=staff.headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def the_city(app):
    from models.geography import city_map

    return city_map(app.config["CITY_BOUNDARY_FILE"], app.config["DISTRICTS_FILE"])


def offset(point, north_m=0.0, east_m=0.0):
    lat, lon = point
    return lat + north_m / 111_195.0, lon + east_m / (111_195.0 * math.cos(math.radians(lat)))


def all_pages(client, path, params, limit, headers=None, between_pages=None):
    """Follow next_cursor to the end; the ids in order."""
    seen, cursor, pages = [], None, 0
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        r = client.get(f"{API}{path}", query_string=query, headers=headers or {})
        assert r.status_code == 200, (query, r.get_json())
        body = r.get_json()
        items = body["items"] if "items" in body else body["features"]
        assert len(items) <= limit
        seen += [item["id"] for item in items]
        pages += 1
        cursor = body["next_cursor"]
        if between_pages is not None:
            between_pages(pages)
        if cursor is None:
            return seen


# ---------------------------------------------------------------------------------------
# A city full of reports, and the brute-force truth about it
# ---------------------------------------------------------------------------------------


@dataclass
class Known:
    id: int
    kind: str
    category: str
    department: str
    district: str
    lat: float
    lon: float
    status: str
    visibility: str
    reporter: object

    @property
    def public(self) -> bool:
        return self.visibility == "visible" and self.status != "pending"


def random_point_in(city, rng, around=None, spread_m=300.0):
    while True:
        if around is None:
            lon = rng.uniform(city.bounds.min_lon, city.bounds.max_lon)
            lat = rng.uniform(city.bounds.min_lat, city.bounds.max_lat)
        else:
            lat, lon = offset(around, rng.uniform(-spread_m, spread_m), rng.uniform(-spread_m, spread_m))
        if city.district_at(lat, lon) is not None:
            return lat, lon


class City:
    """About 60 reports at random points inside Dortmund, in every state, known on the side."""

    def __init__(self, client, app, make_user, seed=10, count=60):
        self.client = client
        self.map = the_city(app)
        self.staff = make_user("staff")
        self.moderator = make_user("moderator")
        self.residents = [make_user() for _ in range(4)]
        self.known: dict[int, Known] = {}
        rng = random.Random(seed)
        self.rng = rng
        centres = [random_point_in(self.map, rng) for _ in range(count // 4)]
        for i in range(count):
            point = random_point_in(self.map, rng, around=centres[i % len(centres)])
            kind = "unsafe_place" if rng.random() < 0.3 else "litter"
            self.add(point, kind, rng.choice(BASE_CATEGORIES[kind]), self.residents[i % 4])
        for report in list(self.known.values()):
            self.random_fate(report)

    def add(self, point, kind, category, user=None):
        body = file_report(self.client, user or self.residents[0], point, kind=kind, category=category)
        known = Known(body["id"], kind, category, body["department"], body["district"], body["lat"], body["lon"], body["status"], body["visibility"], user or self.residents[0])
        self.known[known.id] = known
        return known

    def random_fate(self, report):
        roll = self.rng.random()
        if report.status == "pending":
            if roll < 0.35:
                return
            decide(self.client, self.moderator, report.id, "approve")
            report.status = "open"
            roll = self.rng.random()
        if roll < 0.35:
            return
        if roll < 0.5:
            self.set_status(report, "acknowledged")
        elif roll < 0.6:
            self.set_status(report, "in_progress")
        elif roll < 0.75:
            self.set_status(report, "resolved")
        elif roll < 0.8:
            self.set_status(report, "rejected")
        elif roll < 0.85:
            originals = [k for k in self.known.values() if k.public and k.id != report.id]
            self.set_status(report, "duplicate", duplicate_of=originals[0].id)
        elif roll < 0.92:
            self.moderate(report, "hide")
        else:
            self.moderate(report, "reject")

    def set_status(self, report, status, **extra):
        assert advance(self.client, self.staff, report.id, status, **extra)["status"] == status
        report.status = status

    def moderate(self, report, action):
        decide(self.client, self.moderator, report.id, action)
        report.visibility = {"hide": "hidden", "restore": "visible", "reject": "removed"}.get(action, report.visibility)
        if action == "approve":
            report.status = "open"

    # -- the truth ----------------------------------------------------------------------
    def matching(self, box=None, kind=None, category=None, status=None, department=None, district=None):
        found = []
        for k in self.known.values():
            if not k.public:
                continue
            if box is not None and not (box[0] <= k.lon <= box[2] and box[1] <= k.lat <= box[3]):
                continue
            if (kind and k.kind != kind) or (category and k.category != category) or (status and k.status != status):
                continue
            if (department and k.department != department) or (district and k.district != district):
                continue
            found.append(k)
        return sorted(found, key=lambda k: -k.id)

    def random_box(self, half_m):
        centre = self.rng.choice(list(self.known.values()))
        lat0, lon0 = offset((centre.lat, centre.lon), -half_m * self.rng.uniform(0.5, 1.5), -half_m * self.rng.uniform(0.5, 1.5))
        lat1, lon1 = offset((centre.lat, centre.lon), half_m * self.rng.uniform(0.5, 1.5), half_m * self.rng.uniform(0.5, 1.5))
        return (lon0, lat0, lon1, lat1)


def bbox_param(box) -> str:
    return ",".join(repr(v) for v in box)


FILTER_COMBOS = [
    {},
    {"kind": "litter"},
    {"kind": "unsafe_place"},
    {"category": "illegal_dumping"},
    {"category": "poor_lighting", "kind": "unsafe_place"},
    {"category": "poor_lighting", "kind": "litter"},  # never both: nothing
    {"status": "open"},
    {"status": "resolved", "kind": "litter"},
    {"status": "acknowledged"},
    {"department": "edg"},
    {"department": "tiefbauamt", "status": "open"},
    {"district": "innenstadt-west"},
]


@pytest.fixture
def city(client, app, make_user):
    return City(client, app, make_user)


@pytest.mark.slow
def test_box_pages_match_a_brute_force_filter_on_both_paths(client, app, city):
    whole = city.map.bounds
    boxes = [None, (whole.min_lon - 0.1, whole.min_lat - 0.1, whole.max_lon + 0.1, whole.max_lat + 0.1)]
    boxes += [city.random_box(half_m) for half_m in (150, 300, 600, 1200, 2500, 5000) for _ in range(2)]
    paths = set()
    from models import reports as domain

    most_cells = domain.MAX_PAGE_CELLS_POSTGRESQL if app.config["DATABASE_URL"].startswith("postgresql") else domain.MAX_PAGE_CELLS
    for box in boxes:
        clamped = whole.clamp(Bounds(*box)) if box else whole
        paths.add("cells" if page_cell_count(clamped) <= most_cells else "scan")
        for filters in FILTER_COMBOS:
            params = {**filters, **({"bbox": bbox_param(box)} if box else {})}
            expected = [k.id for k in city.matching(box, **filters)]
            assert all_pages(client, "/reports", params, limit=7) == expected, (box, filters)
        # One page with everything, and as GeoJSON.
        params = {"bbox": bbox_param(box)} if box else {}
        expected = [k.id for k in city.matching(box)]
        assert all_pages(client, "/reports", params, limit=100) == expected
        assert all_pages(client, "/reports/geojson", params, limit=9) == expected
    assert paths == {"cells", "scan"}  # both ways of walking a box were asked
    assert sum(1 for k in city.known.values() if k.public) >= 30


@pytest.mark.slow
def test_geojson_features_carry_the_report(client, app, city):
    r = client.get(f"{API}/reports/geojson", query_string={"kind": "litter", "limit": 500})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/geo+json")
    body = r.get_json()
    assert body["type"] == "FeatureCollection" and body["next_cursor"] is None
    expected = city.matching(kind="litter")
    assert [f["id"] for f in body["features"]] == [k.id for k in expected]
    for feature, known in zip(body["features"], expected):
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
        assert feature["geometry"]["coordinates"] == [known.lon, known.lat]
        assert feature["properties"]["category"] == known.category and feature["properties"]["status"] == known.status
        assert feature["properties"]["kind"] == "litter" and feature["properties"]["district"] == known.district


def brute_clusters(city, box, zoom, **filters):
    clamped = city.map.bounds.clamp(Bounds(*box)) if box else city.map.bounds
    if clamped is None:
        return {}
    x0, x1, y0, y1 = cluster_cell_range(clamped, zoom)
    cells = defaultdict(list)
    for k in city.matching(None, **filters):
        x, y = cluster_cell(k.lat, k.lon, zoom)
        if x0 <= x <= x1 and y0 <= y <= y1:
            cells[(x, y)].append(k)
    return cells


def check_clusters(client, city, box, zoom, **filters):
    params = {"zoom": zoom, **filters, **({"bbox": bbox_param(box)} if box else {})}
    r = client.get(f"{API}/reports/clusters", query_string=params)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["type"] == "FeatureCollection"
    used = body["zoom"]
    assert 8 <= used <= min(zoom, 16)
    cells = brute_clusters(city, box, used, **filters)
    features = body["features"]
    assert sum(f["properties"]["count"] for f in features) == sum(len(v) for v in cells.values()), (box, zoom, filters)
    assert sorted(f["properties"]["count"] for f in features) == sorted(len(v) for v in cells.values())
    singles = {f["properties"]["report_id"]: f for f in features if f["properties"]["count"] == 1}
    assert all(("report_id" in f["properties"]) == (f["properties"]["count"] == 1) for f in features)
    assert set(singles) == {v[0].id for v in cells.values() if len(v) == 1}
    for report_id, feature in singles.items():
        known = city.known[report_id]
        assert feature["geometry"]["coordinates"] == [round(known.lon, 6), round(known.lat, 6)]
    return used, features


@pytest.mark.slow
def test_clusters_count_every_matching_public_report_once(client, app, city):
    whole = city.map.bounds
    for zoom in (8, 10, 12, 14, 16):
        check_clusters(client, city, None, zoom)
        for filters in ({"kind": "litter"}, {"category": "illegal_dumping"}, {"status": "open"}, {"kind": "unsafe_place", "status": "open"},
                        {"kind": "litter", "category": "poor_lighting"}):
            check_clusters(client, city, None, zoom, **filters)
    # Without a box: the whole city, every public report.
    _zoom, features = check_clusters(client, city, None, 12)
    assert sum(f["properties"]["count"] for f in features) == len(city.matching())
    for _ in range(6):
        box = city.random_box(city.rng.choice((400, 1500, 4000)))
        for zoom in (9, 13, 16):
            check_clusters(client, city, box, zoom)
            check_clusters(client, city, box, zoom, kind="litter", status="resolved")
        # Every report in the box is in some cluster (clusters are whole cells, so they may count a few beyond its edge).
        _zoom, features = check_clusters(client, city, box, 16)
        assert sum(f["properties"]["count"] for f in features) >= len(city.matching(box))
    # Zooms outside the kept ones are answered at the nearest kept one.
    assert client.get(f"{API}/reports/clusters", query_string={"zoom": 3}).get_json()["zoom"] == 8
    far = (whole.max_lon + 1, whole.max_lat + 1, whole.max_lon + 2, whole.max_lat + 2)
    assert client.get(f"{API}/reports/clusters", query_string={"bbox": bbox_param(far)}).get_json()["features"] == []


# ---------------------------------------------------------------------------------------
# Kept counts equal a recount after every kind of change
# ---------------------------------------------------------------------------------------


def cell_table(session) -> dict:
    from models.reports import ReportMapCell

    rows = {}
    for cell in session.scalars(select(ReportMapCell)):
        key = (cell.zoom, cell.category_key, cell.status_key, cell.x, cell.y)
        assert cell.count >= 0, key
        if cell.count == 0:
            # An emptied cell is harmless, but must be truly empty.
            assert cell.id_sum == 0 and abs(cell.lat_sum) < 1e-6 and abs(cell.lon_sum) < 1e-6, key
            continue
        rows[key] = (cell.count, cell.id_sum, cell.lat_sum, cell.lon_sum)
    return rows


def assert_counts_match_a_recount(session):
    from models.reports import rebuild_map_cells

    session.rollback()
    kept = cell_table(session)
    rebuild_map_cells(session)
    session.flush()
    recount = cell_table(session)
    session.rollback()
    assert set(kept) == set(recount), (set(kept) ^ set(recount))
    for key, (count, id_sum, lat_sum, lon_sum) in recount.items():
        assert kept[key][:2] == (count, id_sum), key
        assert math.isclose(kept[key][2], lat_sum, abs_tol=1e-6) and math.isclose(kept[key][3], lon_sum, abs_tol=1e-6), key
    return kept


def test_kept_counts_follow_every_kind_of_change(client, app, make_user, session):
    staff, moderator, resident = make_user("staff"), make_user("moderator"), make_user()
    assert assert_counts_match_a_recount(session) == {}
    first = file_report(client, resident, ALTER_MARKT)
    kept = assert_counts_match_a_recount(session)
    # 9 zooms x (category, kind, all) x (status, all)
    assert len(kept) == 9 * 3 * 2
    second = file_report(client, resident, offset(ALTER_MARKT, 20, 20), category="glass")
    original = file_report(client, resident, PHOENIX_SEE)
    assert_counts_match_a_recount(session)
    for status in ("acknowledged", "in_progress", "resolved"):
        advance(client, staff, first["id"], status)
        assert_counts_match_a_recount(session)
    advance(client, staff, first["id"], "resolved")  # a note: nothing moves
    assert_counts_match_a_recount(session)
    r = client.post(f"{API}/reports/{first['id']}/reopen", json={}, headers=resident.headers)
    assert r.status_code == 200
    assert_counts_match_a_recount(session)
    decide(client, moderator, second["id"], "hide")
    assert_counts_match_a_recount(session)
    decide(client, moderator, second["id"], "restore")
    assert_counts_match_a_recount(session)
    unsafe = file_report(client, resident, offset(PHOENIX_SEE, 50, 0), kind="unsafe_place")
    assert_counts_match_a_recount(session)
    decide(client, moderator, unsafe["id"], "approve")
    assert_counts_match_a_recount(session)
    advance(client, staff, second["id"], "duplicate", duplicate_of=original["id"])
    assert_counts_match_a_recount(session)
    advance(client, staff, unsafe["id"], "rejected")
    assert_counts_match_a_recount(session)
    # Three flaggers hide it automatically.
    for _ in range(app.config["FLAG_HIDE_THRESHOLD"]):
        r = client.post(f"{API}/flags", json={"target_type": "report", "target_id": original["id"], "reason": "spam"}, headers=make_user().headers)
        assert r.status_code == 201
    assert client.get(f"{API}/reports/{original['id']}").status_code == 404
    assert_counts_match_a_recount(session)
    decide(client, moderator, original["id"], "reject")
    kept = assert_counts_match_a_recount(session)
    # What is left on the map: first (open again), second (duplicate); unsafe (rejected by staff, still public).
    total = client.get(f"{API}/reports/clusters", query_string={"zoom": 8}).get_json()["features"]
    assert sum(f["properties"]["count"] for f in total) == 3


@pytest.mark.slow
def test_kept_counts_equal_a_recount_after_a_random_city(client, app, make_user, session):
    city = City(client, app, make_user, seed=3, count=40)
    assert_counts_match_a_recount(session)
    for report in list(city.known.values()):
        if report.public and report.status == "resolved":
            r = client.post(f"{API}/reports/{report.id}/reopen", json={}, headers=report.reporter.headers)
            assert r.status_code == 200
            report.status = "open"
        elif report.visibility == "hidden":
            city.moderate(report, "restore")
        elif report.public and report.status in ("open", "acknowledged"):
            city.moderate(report, "hide")
    assert_counts_match_a_recount(session)
    check_clusters(client, city, None, 12)


# ---------------------------------------------------------------------------------------
# Boxes: validation, outside the city, pages while reports arrive
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/reports", "/reports/geojson", "/reports/clusters"])
@pytest.mark.parametrize(
    "bbox",
    ["7.4,51.4,7.5", "7.4,51.4,7.5,51.5,7.6", "a,b,c,d", "7.4,51.4,7.5,north", "7.5,51.4,7.4,51.5", "7.4,51.5,7.5,51.4",
     "nan,51.4,7.5,51.5", "7.4,51.4,inf,51.5", "", "-181,51.4,7.5,51.5", "7.4,-91,7.5,51.5"],
)
def test_a_malformed_box_is_422_naming_bbox(client, path, bbox):
    r = client.get(f"{API}{path}", query_string={"bbox": bbox})
    assert r.status_code == 422, r.get_json()
    assert list(r.get_json()["errors"]) == ["bbox"]


def test_boxes_partly_or_wholly_outside_the_city(client, app, make_user):
    resident = make_user()
    inside = file_report(client, resident, ALTER_MARKT)
    south = file_report(client, resident, PHOENIX_SEE)
    whole = the_city(app).bounds
    # Reaching beyond the city's western edge, around the Alter Markt only.
    west = (whole.min_lon - 0.5, ALTER_MARKT[0] - 0.002, ALTER_MARKT[1] + 0.002, ALTER_MARKT[0] + 0.002)
    assert all_pages(client, "/reports", {"bbox": bbox_param(west)}, 10) == [inside["id"]]
    assert all_pages(client, "/reports/geojson", {"bbox": bbox_param(west)}, 10) == [inside["id"]]
    # The whole world holds both.
    assert all_pages(client, "/reports", {"bbox": "-180,-90,180,90"}, 10) == [south["id"], inside["id"]]
    # Wholly outside (Bochum's west, the North Sea, the other side of the world): nothing.
    for box in ((7.10, 51.40, 7.25, 51.50), (4.0, 53.5, 5.0, 54.0), (-120.0, 30.0, -110.0, 40.0)):
        for path in ("/reports", "/reports/geojson"):
            r = client.get(f"{API}{path}", query_string={"bbox": bbox_param(box)})
            assert r.status_code == 200
            body = r.get_json()
            assert body.get("items", body.get("features")) == [] and body["next_cursor"] is None
    # A box that is one point: the report at exactly that point.
    point = (ALTER_MARKT[1], ALTER_MARKT[0], ALTER_MARKT[1], ALTER_MARKT[0])
    assert all_pages(client, "/reports", {"bbox": bbox_param(point)}, 10) == [inside["id"]]


def test_pages_cover_a_box_exactly_once_while_reports_arrive(client, app, make_user):
    resident = make_user()
    rng = random.Random(7)
    points = [offset(ALTER_MARKT, rng.uniform(-400, 400), rng.uniform(-400, 400)) for _ in range(13)]
    ids = [file_report(client, resident, p)["id"] for p in points]
    box = (*offset(ALTER_MARKT, -450, -450)[::-1], *offset(ALTER_MARKT, 450, 450)[::-1])
    created = []

    def more(page):
        if page <= 3:
            created.append(file_report(client, resident, offset(ALTER_MARKT, 10 * page, 0))["id"])

    for path, bbox in (("/reports", bbox_param(box)), ("/reports", None), ("/reports/geojson", bbox_param(box))):
        params = {"bbox": bbox} if bbox else {}
        seen = all_pages(client, path, params, limit=4, between_pages=more)
        assert len(seen) == len(set(seen))
        # Everything that was there at the start, exactly once and newest first; newer reports come with the next first page.
        assert [i for i in seen if i in ids] == sorted(ids, reverse=True), path
        assert seen == sorted(seen, reverse=True)
        ids = ids + created
        created.clear()
    # A bad cursor or limit is 422.
    for query in ({"cursor": "xyz"}, {"limit": 0}, {"limit": 101}, {"limit": "ten"}):
        assert client.get(f"{API}/reports", query_string=query).status_code == 422, query


# ---------------------------------------------------------------------------------------
# Nearby
# ---------------------------------------------------------------------------------------


def test_nearby_offers_open_recent_reports_of_the_category_nearest_first(client, app, make_user, session):
    from models.reference import Category
    from models.reports import Report

    staff, moderator, resident = make_user("staff"), make_user("moderator"), make_user()
    radius = session.get(Category, "illegal_dumping").nearby_radius_m
    assert radius == 100
    here = ALTER_MARKT
    near = file_report(client, resident, offset(here, 30, 0))
    nearer = file_report(client, resident, offset(here, 0, -15))
    edge = file_report(client, resident, offset(here, 0, radius - 5))
    acknowledged = file_report(client, resident, offset(here, -60, 0))
    advance(client, staff, acknowledged["id"], "acknowledged")
    beyond = file_report(client, resident, offset(here, 0, radius + 10))
    other_category = file_report(client, resident, offset(here, 5, 0), category="bulky_waste")
    resolved = file_report(client, resident, offset(here, 10, 0))
    advance(client, staff, resolved["id"], "resolved")
    hidden = file_report(client, resident, offset(here, 12, 0))
    decide(client, moderator, hidden["id"], "hide")
    old = file_report(client, resident, offset(here, 20, 0))
    just_recent = file_report(client, resident, offset(here, 25, 0))
    days = app.config["REPORT_NEARBY_DAYS"]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    session.execute(update(Report).where(Report.id == old["id"]).values(created_at=now - timedelta(days=days, hours=1)))
    session.execute(update(Report).where(Report.id == just_recent["id"]).values(created_at=now - timedelta(days=days) + timedelta(hours=1)))
    session.commit()

    r = client.get(f"{API}/reports/nearby", query_string={"lat": here[0], "lon": here[1], "category": "illegal_dumping"})
    assert r.status_code == 200, r.get_json()
    items = r.get_json()["items"]
    assert [i["id"] for i in items] == [nearer["id"], just_recent["id"], near["id"], acknowledged["id"], edge["id"]]
    for item in items:
        assert item["distance_m"] == pytest.approx(distance_m(here[0], here[1], item["lat"], item["lon"]), abs=0.1)
        assert item["distance_m"] <= radius and item["category"] == "illegal_dumping"
    assert [i["distance_m"] for i in items] == sorted(i["distance_m"] for i in items)
    excluded = {beyond["id"], other_category["id"], resolved["id"], hidden["id"], old["id"]}
    assert not excluded & {i["id"] for i in items}
    # The other category has its own radius and its own reports.
    bulky = client.get(f"{API}/reports/nearby", query_string={"lat": here[0], "lon": here[1], "category": "bulky_waste"}).get_json()["items"]
    assert [i["id"] for i in bulky] == [other_category["id"]]


def test_nearby_leaves_out_pending_unsafe_places_until_approved(client, make_user, session):
    from models.reference import Category

    moderator, resident = make_user("moderator"), make_user()
    radius = session.get(Category, "poor_lighting").nearby_radius_m
    here = PHOENIX_SEE
    pending = file_report(client, resident, offset(here, 20, 0), kind="unsafe_place")
    waiting = file_report(client, resident, offset(here, 0, radius / 2), kind="unsafe_place")
    decide(client, moderator, waiting["id"], "approve")
    query = {"lat": here[0], "lon": here[1], "category": "poor_lighting"}
    # Not even the reporter, moderators or staff get pending places offered as duplicates.
    for headers in ({}, resident.headers, moderator.headers):
        items = client.get(f"{API}/reports/nearby", query_string=query, headers=headers).get_json()["items"]
        assert [i["id"] for i in items] == [waiting["id"]]
    decide(client, moderator, pending["id"], "approve")
    items = client.get(f"{API}/reports/nearby", query_string=query).get_json()["items"]
    assert [i["id"] for i in items] == [pending["id"], waiting["id"]]


@pytest.mark.parametrize(
    "query",
    [
        {"lat": 51.51, "lon": 7.46},
        {"lat": 51.51, "category": "glass"},
        {"lat": "north", "lon": 7.46, "category": "glass"},
        {"lat": 95, "lon": 7.46, "category": "glass"},
        {"lat": 51.51, "lon": 7.46, "category": "nonsense"},
        {"lat": 51.51, "lon": 7.46, "category": "green_spaces"},  # an idea category
    ],
)
def test_nearby_bad_queries_are_422(client, query):
    r = client.get(f"{API}/reports/nearby", query_string=query)
    assert r.status_code == 422, r.get_json()
