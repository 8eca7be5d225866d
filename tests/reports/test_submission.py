"""Filing a report (issue 10): the payload, the place, the checks, moderation at filing time,
Idempotency-Key on multipart retries, and nothing stored half-way when something fails."""
from __future__ import annotations

import errno
import json

import pytest
from sqlalchemy import select

from media.storage import LocalDirectoryStorage, StorageUnavailable
from models import reports as domain
from models.errors import Invalid
from models.reports import Report, ReportFollow, ReportPhoto
from tests.media.fixtures import jpeg
from tests.reports.helpers import (
    count,
    stored_files,
    ALTER_MARKT,
    ALTER_MARKT_DISTRICT,
    LITTER,
    LUENEN,
    PHOENIX_SEE,
    PHOENIX_SEE_DISTRICT,
    REPORTS,
    SCHWERTE,
    UNSAFE,
    file_multipart,
    file_report,
    file_unsafe,
)

QUEUE = "/api/v1/moderation/queue"
DECISIONS = "/api/v1/moderation/decisions"
# About 50 m north of the Alter Markt (1° latitude ≈ 111.2 km).
FIFTY_M_NORTH = (ALTER_MARKT[0] + 50 / 111_200, ALTER_MARKT[1])
FIVE_M_NORTH = (ALTER_MARKT[0] + 5 / 111_200, ALTER_MARKT[1])


def small_photo(seed: int = 0) -> bytes:
    return jpeg(64 + seed, 48)


# ---------------------------------------------------------------------------------------
# The happy paths
# ---------------------------------------------------------------------------------------


def test_litter_as_json_is_open_at_once_in_the_district_of_its_point(client, make_user):
    reporter = make_user()
    r = client.post(REPORTS, json=LITTER, headers=reporter.headers)
    assert r.status_code == 201, r.get_json()
    report = r.get_json()
    assert r.headers["Location"] == f"/api/v1/reports/{report['id']}"
    assert report["kind"] == "litter" and report["category"] == "illegal_dumping"
    assert report["description"] == LITTER["description"]
    assert (report["lat"], report["lon"]) == ALTER_MARKT
    assert report["district"] == ALTER_MARKT_DISTRICT
    assert report["status"] == "open" and report["visibility"] == "visible"
    assert report["photos"] == [] and report["updates"] == [] and report["confirmations"] == 0
    # The reporter follows their own report from the start.
    assert report["following"] is True and report["reported_by_me"] is True
    again = client.get(f"{REPORTS}/{report['id']}", headers=reporter.headers).get_json()
    assert again["following"] is True and again["district"] == ALTER_MARKT_DISTRICT
    # Others see it too (public), but do not follow it.
    other = client.get(f"{REPORTS}/{report['id']}", headers=make_user().headers).get_json()
    assert other["following"] is False and other["reported_by_me"] is False
    assert client.get(f"{REPORTS}/{report['id']}").status_code == 200
    ids = [item["id"] for item in client.get(REPORTS).get_json()["items"]]
    assert ids == [report["id"]]


@pytest.mark.parametrize(
    "point, district",
    [(ALTER_MARKT, ALTER_MARKT_DISTRICT), (PHOENIX_SEE, PHOENIX_SEE_DISTRICT)],
)
def test_district_follows_from_the_point(client, make_user, point, district):
    report = file_report(client, make_user(), lat=point[0], lon=point[1])
    assert report["district"] == district


def test_multipart_with_three_photos(client, make_user, storage):
    reporter = make_user()
    r = file_multipart(client, reporter, [small_photo(i) for i in range(3)], lat=PHOENIX_SEE[0], lon=PHOENIX_SEE[1])
    assert r.status_code == 201, r.get_json()
    report = r.get_json()
    assert report["district"] == PHOENIX_SEE_DISTRICT and report["status"] == "open"
    # In the order sent, each with its own size.
    assert [(p["width"], p["height"]) for p in report["photos"]] == [(64, 48), (65, 48), (66, 48)]
    assert report["following"] is True
    # Two files (image and thumbnail) per photo.
    assert len(stored_files(storage.root_path)) == 6


def test_reporter_follows_their_report(client, make_user, session):
    reporter = make_user()
    report = file_unsafe(client, reporter)
    assert client.get(f"{REPORTS}/{report['id']}", headers=reporter.headers).get_json()["following"] is True
    follows = session.execute(select(ReportFollow.report_id, ReportFollow.user_id)).all()
    assert follows == [(report["id"], reporter.id)]


# ---------------------------------------------------------------------------------------
# The place
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("point", [SCHWERTE, LUENEN, (52.5200, 13.4050)], ids=["schwerte", "luenen", "berlin"])
def test_outside_dortmund_is_refused_in_german_by_default(client, make_user, session, point):
    r = client.post(REPORTS, json={**LITTER, "lat": point[0], "lon": point[1]}, headers=make_user().headers)
    assert r.status_code == 422
    body = r.get_json()
    assert body["code"] == 422 and "lat" in body["errors"]
    assert "nicht in Dortmund" in body["message"]
    assert count(session, Report) == 0


def test_outside_dortmund_in_english_when_asked(client, make_user):
    r = client.post(
        REPORTS, json={**LITTER, "lat": SCHWERTE[0], "lon": SCHWERTE[1]},
        headers={**make_user().headers, "Accept-Language": "en"},
    )
    assert r.status_code == 422
    assert "not in Dortmund" in r.get_json()["message"]


def test_outside_dortmund_in_a_multipart_form_stores_no_photo(client, make_user, session, storage):
    r = file_multipart(client, make_user(), [small_photo()], lat=LUENEN[0], lon=LUENEN[1])
    assert r.status_code == 422 and "lat" in r.get_json()["errors"]
    assert count(session, Report) == 0 and count(session, ReportPhoto) == 0
    assert stored_files(storage.root_path) == []


def test_the_apps_default_pin_is_refused_but_50_m_away_is_fine(client, make_user, session, app, monkeypatch):
    monkeypatch.setitem(app.config, "REFUSED_PIN", ALTER_MARKT)
    user = make_user()
    for point in (ALTER_MARKT, FIVE_M_NORTH):
        r = client.post(REPORTS, json={**LITTER, "lat": point[0], "lon": point[1]}, headers=user.headers)
        assert r.status_code == 422, r.get_json()
        assert "lat" in r.get_json()["errors"]
        assert "Ausgangspunkt" in r.get_json()["message"]
    assert count(session, Report) == 0
    report = file_report(client, user, lat=FIFTY_M_NORTH[0], lon=FIFTY_M_NORTH[1])
    assert report["district"] == ALTER_MARKT_DISTRICT


def test_without_a_refused_pin_the_same_point_is_accepted(client, make_user, app):
    assert app.config["REFUSED_PIN"] is None
    assert file_report(client, make_user())["lat"] == ALTER_MARKT[0]


# ---------------------------------------------------------------------------------------
# Bad input: 4xx naming the field, never 5xx, nothing stored
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, field",
    [
        ({"lat": "51.5136"}, "lat"),
        ({"lon": "7.4653"}, "lon"),
        ({"lat": True}, "lat"),
        ({"lat": None}, "lat"),
        ({"lat": 91}, "lat"),
        ({"lon": -181}, "lon"),
        ({"lat": SCHWERTE[0], "lon": SCHWERTE[1]}, "lat"),
        ({"lat": 0, "lon": 0}, "lat"),
        ({"description": "ab"}, "description"),
        ({"description": "x" * 2001}, "description"),
        ({"description": 42}, "description"),
        ({"category": "no_such_category"}, "category"),
        ({"category": "potholes_and_more" * 5}, "category"),
        # An idea category is no report category; an unsafe-place category is not litter.
        ({"category": "poor_lighting"}, "category"),
        ({"kind": "unsafe_place", "category": "illegal_dumping"}, "category"),
        ({"kind": "pothole"}, "kind"),
        ({"photo_ids": [1, 2, 3, 4]}, "photo_ids"),
        ({"photo_ids": "1"}, "photo_ids"),
        ({"photo_ids": [987654]}, "photo_ids"),
    ],
)
def test_bad_json_input_names_the_field_and_stores_nothing(client, make_user, session, change, field):
    r = client.post(REPORTS, json={**LITTER, **change}, headers=make_user().headers)
    assert r.status_code == 422, r.get_json()
    body = r.get_json()
    assert field in body["errors"], body
    assert body["code"] == 422 and body["message"]
    assert count(session, Report) == 0


def test_an_idea_category_is_unknown_for_reports(client, make_user, session):
    from models.reference import CATEGORIES

    idea_category = next(code for code, kind, *_ in CATEGORIES if kind == "idea")
    r = client.post(REPORTS, json={**LITTER, "category": idea_category}, headers=make_user().headers)
    assert r.status_code == 422 and "category" in r.get_json()["errors"]


def test_wrong_kind_says_which_kind(client, make_user):
    r = client.post(REPORTS, json={**UNSAFE, "category": "glass"}, headers={**make_user().headers, "Accept-Language": "en"})
    assert r.status_code == 422
    assert r.get_json()["errors"]["category"]
    assert "unsafe_place" in r.get_json()["message"]


@pytest.mark.parametrize("field", ["kind", "category", "description", "lat", "lon"])
def test_a_missing_field_is_named(client, make_user, session, field):
    payload = {k: v for k, v in LITTER.items() if k != field}
    r = client.post(REPORTS, json=payload, headers=make_user().headers)
    assert r.status_code == 422
    assert field in r.get_json()["errors"]
    assert count(session, Report) == 0


@pytest.mark.parametrize("field", ["kind", "category", "description", "lat", "lon"])
def test_a_missing_form_field_is_named(client, make_user, session, storage, field):
    r = file_multipart(client, make_user(), [small_photo()], **{field: None})
    assert r.status_code == 422
    assert field in r.get_json()["errors"]
    assert count(session, Report) == 0 and count(session, ReportPhoto) == 0
    assert stored_files(storage.root_path) == []


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_json_are_a_malformed_body(client, make_user, session, literal):
    body = json.dumps(LITTER).replace(str(LITTER["lat"]), literal)
    assert literal in body
    r = client.post(REPORTS, data=body, content_type="application/json", headers=make_user().headers)
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["code"] == 400
    assert count(session, Report) == 0


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity", "", "51,5136", "north", "1e999"])
@pytest.mark.parametrize("field", ["lat", "lon"])
def test_non_finite_or_non_numeric_form_coordinates_are_422(client, make_user, session, storage, field, value):
    r = file_multipart(client, make_user(), [small_photo()], **{field: value})
    assert r.status_code == 422, (value, r.get_json())
    assert field in r.get_json()["errors"]
    assert count(session, Report) == 0 and count(session, ReportPhoto) == 0
    assert stored_files(storage.root_path) == []


def test_form_numbers_are_read_from_text(client, make_user):
    r = file_multipart(client, make_user(), [], lat=" 51.4875 ", lon="7.5127")
    assert r.status_code == 201, r.get_json()
    report = r.get_json()
    assert (report["lat"], report["lon"]) == PHOENIX_SEE and report["district"] == PHOENIX_SEE_DISTRICT
    assert report["photos"] == []


def test_too_many_files_is_422_and_stores_nothing(client, make_user, session, storage):
    r = file_multipart(client, make_user(), [small_photo(i) for i in range(4)])
    assert r.status_code == 422
    assert "photo" in r.get_json()["errors"]
    assert count(session, Report) == 0 and count(session, ReportPhoto) == 0
    assert stored_files(storage.root_path) == []


def test_unauthenticated_is_401(client, session):
    assert client.post(REPORTS, json=LITTER).status_code == 401
    r = file_multipart(client, None, [small_photo()])
    assert r.status_code == 401 and r.get_json()["code"] == 401
    assert count(session, Report) == 0


def test_a_blocked_user_is_403(client, make_user, session, storage):
    moderator, user = make_user("moderator"), make_user()
    assert client.put(
        f"/api/v1/moderation/users/{user.id}/block", json={"reason": "Spam"}, headers=moderator.headers
    ).status_code == 204
    r = client.post(REPORTS, json=LITTER, headers=user.headers)
    assert r.status_code == 403 and r.get_json()["code"] == 403
    assert file_multipart(client, user, [small_photo()]).status_code == 403
    assert count(session, Report) == 0 and count(session, ReportPhoto) == 0
    assert stored_files(storage.root_path) == []


# ---------------------------------------------------------------------------------------
# Failures: nothing stored half-way
# ---------------------------------------------------------------------------------------


class FailingStorage(LocalDirectoryStorage):
    """Writes `fail_after` files, then fails as a full disk does."""

    def __init__(self, root, fail_after: int):
        super().__init__(root)
        self.fail_after = fail_after
        self.puts = 0

    def put(self, key, data, content_type):
        self.puts += 1
        if self.puts > self.fail_after:
            raise StorageUnavailable() from OSError(errno.ENOSPC, "No space left on device")
        super().put(key, data, content_type)


def assert_unavailable(r):
    assert r.status_code == 503, r.get_json()
    body = r.get_json()
    assert body["code"] == 503 and body["status"] == "Service Unavailable"
    assert body["message"] and "photo" in body["errors"]


@pytest.mark.parametrize("fail_after", [0, 1, 3])
def test_a_failing_photo_write_is_503_and_leaves_nothing(client, make_user, session, app, tmp_path, monkeypatch, fail_after):
    # 0: the first file fails; 1: the first photo's thumbnail fails; 3: the second photo's thumbnail.
    root = tmp_path / "full"
    root.mkdir()
    store = FailingStorage(root, fail_after)
    monkeypatch.setitem(app.extensions, "photo_storage", store)
    r = file_multipart(client, make_user(), [small_photo(i) for i in range(3)])
    assert_unavailable(r)
    assert store.puts == fail_after + 1
    assert count(session, Report) == 0 and count(session, ReportPhoto) == 0
    assert stored_files(root) == []


def test_a_storage_directory_that_is_a_file_is_503_and_leaves_nothing(client, make_user, session, app, tmp_path, monkeypatch):
    not_a_dir = tmp_path / "media"
    not_a_dir.write_bytes(b"not a directory")
    monkeypatch.setitem(app.extensions, "photo_storage", LocalDirectoryStorage(not_a_dir))
    user = make_user()
    assert_unavailable(file_multipart(client, user, [small_photo()]))
    from tests.reports.helpers import upload_photo

    assert_unavailable(upload_photo(client, user, small_photo()))
    assert count(session, Report) == 0 and count(session, ReportPhoto) == 0
    assert not_a_dir.read_bytes() == b"not a directory"


def test_a_transaction_failing_after_the_photos_were_written_leaves_no_files(client, make_user, session, storage, monkeypatch):
    real_submit = domain.submit_report
    calls = []

    def submit_then_fail(session_, *args, **kwargs):
        # The report row is inserted and the photos attached; then the transaction fails.
        report = real_submit(session_, *args, **kwargs)
        calls.append((report.id, len(kwargs["photos"])))
        assert len(stored_files(storage.root_path)) == 4
        raise Invalid("description", "invalid_input")

    monkeypatch.setattr(domain, "submit_report", submit_then_fail)
    r = file_multipart(client, make_user(), [small_photo(0), small_photo(1)])
    assert r.status_code == 422, r.get_json()
    assert len(calls) == 1 and calls[0][1] == 2
    assert count(session, Report) == 0 and count(session, ReportPhoto) == 0
    assert stored_files(storage.root_path) == []


def test_a_failing_report_insert_leaves_no_files(client, make_user, session, storage, monkeypatch):
    """The insert itself fails (a foreign key the database refuses): rolled back with the photos."""
    from sqlalchemy.exc import IntegrityError

    real_submit = domain.submit_report

    def failing_insert(session_, *args, **kwargs):
        try:
            return real_submit(session_, *args, **kwargs)
        finally:
            try:
                session_.execute(
                    Report.__table__.insert().values(
                        kind="litter", category="no_such_category", description="x", lat=0, lon=0,
                        district="no-such-district", page_cell=0, status="open", visibility="visible",
                    )
                )
                session_.flush()
            except IntegrityError:
                raise Invalid("category", "unknown_category") from None

    monkeypatch.setattr(domain, "submit_report", failing_insert)
    r = file_multipart(client, make_user(), [small_photo()])
    if r.status_code == 201:  # pragma: no cover - SQLite without foreign keys would let it in
        pytest.skip("the database accepted a dangling foreign key")
    assert r.status_code == 422, r.get_json()
    assert count(session, Report) == 0 and count(session, ReportPhoto) == 0
    assert stored_files(storage.root_path) == []


# ---------------------------------------------------------------------------------------
# Idempotency-Key on a multipart retry
# ---------------------------------------------------------------------------------------


def multipart_body(boundary: str, fields: dict, photos: list[bytes]) -> bytes:
    """A multipart/form-data body written by hand, so that the boundary is the test's choice."""
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for i, content in enumerate(photos):
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="p{i}.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def post_form(client, user, key: str, boundary: str, fields: dict, photos: list[bytes]):
    body = multipart_body(boundary, fields, photos)
    return client.post(
        REPORTS, data=body, content_type=f"multipart/form-data; boundary={boundary}",
        headers={**user.headers, "Idempotency-Key": key},
    )


def test_a_retried_multipart_post_returns_the_first_answer_and_files_once(client, make_user, session, storage):
    user = make_user()
    photos = [small_photo(0), small_photo(1)]
    first = post_form(client, user, "retry-1", "----boundaryAAAA", LITTER, photos)
    assert first.status_code == 201, first.get_json()
    files_after_first = stored_files(storage.root_path)
    assert len(files_after_first) == 4
    second = post_form(client, user, "retry-1", "----boundaryBBBBBBBB", LITTER, photos)
    assert second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers["Location"] == first.headers["Location"]
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert count(session, Report) == 1 and count(session, ReportPhoto) == 2
    # The retry stored no photo of its own.
    assert stored_files(storage.root_path) == files_after_first


@pytest.mark.parametrize(
    "fields, photos",
    [
        ({**LITTER, "description": "Ein ganz anderer Text zur Meldung"}, [small_photo(0)]),
        (LITTER, [small_photo(5)]),
        (LITTER, [small_photo(0), small_photo(0)]),
    ],
    ids=["other-description", "other-photo", "extra-photo"],
)
def test_the_same_key_with_another_body_is_422(client, make_user, session, storage, fields, photos):
    user = make_user()
    first = post_form(client, user, "retry-2", "----b1", LITTER, [small_photo(0)])
    assert first.status_code == 201
    files_after_first = stored_files(storage.root_path)
    r = post_form(client, user, "retry-2", "----b2", fields, photos)
    assert r.status_code == 422, r.get_json()
    assert "Idempotency-Key" in r.get_json()["errors"]
    assert count(session, Report) == 1 and count(session, ReportPhoto) == 1
    assert stored_files(storage.root_path) == files_after_first


def test_the_same_key_of_another_user_files_another_report(client, make_user, session, storage):
    a, b = make_user(), make_user()
    assert post_form(client, a, "shared", "----x", LITTER, [small_photo()]).status_code == 201
    r = post_form(client, b, "shared", "----x", LITTER, [small_photo()])
    assert r.status_code == 201 and r.headers.get("Idempotent-Replayed") is None
    assert count(session, Report) == 2


# ---------------------------------------------------------------------------------------
# Moderation at filing time
# ---------------------------------------------------------------------------------------


def queue_items(client, moderator, state: str) -> list[tuple[str, int]]:
    r = client.get(QUEUE, query_string={"state": state}, headers=moderator.headers)
    assert r.status_code == 200, r.get_json()
    return [(item["target_type"], item["target_id"]) for item in r.get_json()["items"]]


def public_ids(client) -> tuple[list[int], list[int]]:
    listed = [item["id"] for item in client.get(REPORTS).get_json()["items"]]
    geo = client.get("/api/v1/reports/geojson")
    assert geo.status_code == 200
    return listed, [feature["id"] for feature in geo.get_json()["features"]]


def test_unsafe_places_wait_for_a_moderator(client, make_user):
    reporter, moderator = make_user(), make_user("moderator")
    report = file_unsafe(client, reporter)
    assert report["status"] == "pending" and report["visibility"] == "visible"
    assert report["district"] == PHOENIX_SEE_DISTRICT
    assert queue_items(client, moderator, "pending") == [("report", report["id"])]
    assert queue_items(client, moderator, "flagged") == []
    assert public_ids(client) == ([], [])
    url = f"{REPORTS}/{report['id']}"
    assert client.get(url).status_code == 404
    assert client.get(url, headers=make_user().headers).status_code == 404
    assert client.get(url, headers=reporter.headers).get_json()["status"] == "pending"
    assert client.get(url, headers=moderator.headers).status_code == 200

    r = client.post(
        DECISIONS, json={"target_type": "report", "target_id": report["id"], "action": "approve", "reason_code": "ok"},
        headers=moderator.headers,
    )
    assert r.status_code == 201, r.get_json()
    approved = client.get(url).get_json()
    assert approved["status"] == "open" and approved["visibility"] == "visible"
    assert public_ids(client) == ([report["id"]], [report["id"]])
    assert queue_items(client, moderator, "pending") == []


def test_litter_is_public_at_once_and_not_queued(client, make_user):
    moderator = make_user("moderator")
    report = file_report(client, make_user())
    assert report["status"] == "open"
    assert public_ids(client) == ([report["id"]], [report["id"]])
    assert queue_items(client, moderator, "pending") == []
    assert queue_items(client, moderator, "flagged") == []


@pytest.mark.parametrize(
    "description, reason",
    [
        ("Der Idiot von nebenan kippt hier seinen Müll ab", "offensive"),
        ("Müll am Markt, ruft mich an: 0231 5012345", "personal_data"),
        ("Schreibt mir an erika.mustermann@example.org wegen dem Müll", "personal_data"),
    ],
)
def test_the_prescreen_hides_litter_at_once_and_flags_it(client, make_user, description, reason):
    reporter, moderator = make_user(), make_user("moderator")
    report = file_report(client, reporter, description=description)
    assert report["visibility"] == "hidden" and report["status"] == "open"
    assert public_ids(client) == ([], [])
    assert client.get(f"{REPORTS}/{report['id']}").status_code == 404
    assert client.get(f"{REPORTS}/{report['id']}", headers=reporter.headers).get_json()["visibility"] == "hidden"
    r = client.get(QUEUE, query_string={"state": "flagged"}, headers=moderator.headers)
    items = r.get_json()["items"]
    assert [(i["target_type"], i["target_id"]) for i in items] == [("report", report["id"])]
    assert f"prescreen:{reason}" in items[0]["reasons"]


def test_a_harmless_description_passes_the_prescreen(client, make_user):
    report = file_report(client, make_user(), description="Glasscherben am Spielplatz, Kinder laufen barfuß")
    assert report["visibility"] == "visible"
