"""Report photos over HTTP (issue 10): formats by content, size limits, metadata-free and upright
copies, who may see them, the photo-first flow and its expiry."""
from __future__ import annotations

import time
from datetime import timedelta
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from models import reports as domain
from models.base import utcnow
from models.reports import Report, ReportPhoto
from tests.media.fixtures import (
    HEIC_ENCODER,
    heic,
    jpeg,
    not_an_image,
    png,
    png_bomb,
    twelve_megapixel_jpeg,
    webp,
)
from tests.reports.helpers import (
    count,
    stored_files,
    LITTER,
    PHOENIX_SEE,
    REPORTS,
    UNSAFE,
    file_multipart,
    upload_photo,
)

DECISIONS = "/api/v1/moderation/decisions"
# What must never come back: EXIF, XMP, the camera's and the phone's identity.
LEAKS = (b"Exif\x00\x00", b"http://ns.adobe.com/xap", b"xmpmeta", b"SecretPhone", b"F2LXK0QJHG7F", b"Apple iOS",
         b"Erika Mustermann")


def fetch(client, url: str, user=None):
    return client.get(url, headers=user.headers if user else {})


def fetch_image(client, url: str, user=None) -> tuple[bytes, Image.Image]:
    r = fetch(client, url, user)
    assert r.status_code == 200, (url, r.status_code)
    assert r.mimetype == "image/jpeg"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    data = r.get_data()
    image = Image.open(BytesIO(data))
    image.load()
    return data, image


def assert_clean(data: bytes, image: Image.Image) -> None:
    assert image.format == "JPEG"
    assert dict(image.getexif()) == {}
    assert image.getexif().get_ifd(0x8825) == {}
    assert "exif" not in image.info and "xmp" not in image.info and "icc_profile" not in image.info
    for marker in LEAKS:
        assert marker not in data, marker
    # No APP1 segment (EXIF or XMP) at all.
    assert b"\xff\xe1" not in data[: data.find(b"\xff\xda")]


def uploaded(client, user, content: bytes, name: str = "photo.jpg") -> dict:
    r = upload_photo(client, user, content, name)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


# ---------------------------------------------------------------------------------------
# Formats, recognised by content
# ---------------------------------------------------------------------------------------

FORMATS = {
    "jpeg": lambda: jpeg(320, 240, gps=PHOENIX_SEE, xmp=True),
    "png": lambda: png(320, 240, text=True, gps=PHOENIX_SEE),
    "webp": lambda: webp(320, 240, gps=PHOENIX_SEE, xmp=True),
    "heic": lambda: heic(320, 240, gps=PHOENIX_SEE, xmp=True),
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_each_format_comes_back_as_a_clean_jpeg_with_the_gps_suggested_once(client, make_user, session, storage, fmt):
    if fmt == "heic" and not HEIC_ENCODER:
        pytest.skip("no HEIC encoder on this machine")
    user = make_user()
    # The file name says JPEG whatever it is: only the content counts.
    body = uploaded(client, user, FORMATS[fmt](), name="x.jpg")
    assert (body["width"], body["height"]) == (320, 240)
    assert body["suggested_location"]["lat"] == pytest.approx(PHOENIX_SEE[0], abs=1e-4)
    assert body["suggested_location"]["lon"] == pytest.approx(PHOENIX_SEE[1], abs=1e-4)
    assert body["expires_at"]
    for url in (body["url"], body["thumbnail_url"]):
        assert_clean(*fetch_image(client, url, user))
    # The location is not stored anywhere: not in the row, not in the files.
    row = session.get(ReportPhoto, body["id"])
    assert row.report_id is None and row.owner_id == user.id and row.content_type == "image/jpeg"
    assert not any(c.name in ("lat", "lon", "gps", "location") for c in ReportPhoto.__table__.columns)
    assert len(stored_files(storage.root_path)) == 2


def test_a_photo_without_gps_suggests_no_location(client, make_user, storage):
    assert uploaded(client, make_user(), jpeg(64, 48))["suggested_location"] is None


def test_a_png_named_jpg_is_accepted_in_a_report_too(client, make_user, storage):
    r = file_multipart(client, make_user(), [png(80, 60)], names=["x.jpg"])
    assert r.status_code == 201, r.get_json()
    assert [(p["width"], p["height"]) for p in r.get_json()["photos"]] == [(80, 60)]


@pytest.mark.parametrize("content", [not_an_image(), b"GIF89a" + b"\x00" * 100, b""], ids=["text", "gif-ish", "empty"])
def test_not_an_image_named_jpg_is_415(client, make_user, session, storage, content):
    user = make_user()
    r = upload_photo(client, user, content, name="x.jpg")
    assert r.status_code == 415, r.get_json()
    assert r.get_json()["code"] == 415 and "photo" in r.get_json()["errors"]
    # In a report, after a good photo: nothing of either is kept.
    r = file_multipart(client, user, [jpeg(64, 48), content], names=["a.jpg", "x.jpg"])
    assert r.status_code == 415, r.get_json()
    assert count(session, Report) == 0 and count(session, ReportPhoto) == 0
    assert stored_files(storage.root_path) == []


def test_a_decompression_bomb_is_refused_within_a_second(client, make_user, session, storage):
    user = make_user()
    bomb = png_bomb()
    assert len(bomb) < 100_000
    started = time.perf_counter()
    r = upload_photo(client, user, bomb, name="bomb.png")
    elapsed = time.perf_counter() - started
    assert r.status_code in (413, 422), r.get_json()
    assert "photo" in r.get_json()["errors"]
    assert elapsed < 1.0
    started = time.perf_counter()
    r = file_multipart(client, user, [bomb])
    assert r.status_code in (413, 422) and time.perf_counter() - started < 1.0
    assert count(session, Report) == 0 and count(session, ReportPhoto) == 0
    assert stored_files(storage.root_path) == []


@pytest.fixture(scope="module")
def thirty_mb() -> bytes:
    return jpeg(64, 48) + b"\x00" * (30 * 1024 * 1024)


def test_a_30_mb_photo_first_upload_is_413_within_a_second(client, make_user, session, storage, thirty_mb):
    user = make_user()
    started = time.perf_counter()
    r = upload_photo(client, user, thirty_mb)
    assert r.status_code == 413, r.get_json()
    assert time.perf_counter() - started < 1.0
    assert r.get_json()["code"] == 413
    assert count(session, ReportPhoto) == 0 and stored_files(storage.root_path) == []


def test_a_30_mb_photo_in_a_report_is_413_within_a_second(client, make_user, session, storage, thirty_mb):
    started = time.perf_counter()
    r = file_multipart(client, make_user(), [thirty_mb])
    assert r.status_code == 413, r.get_json()
    assert time.perf_counter() - started < 1.0
    assert count(session, Report) == 0 and count(session, ReportPhoto) == 0
    assert stored_files(storage.root_path) == []


# ---------------------------------------------------------------------------------------
# Size and orientation
# ---------------------------------------------------------------------------------------


def test_an_exif_rotated_photo_comes_back_upright(client, make_user, storage):
    # Stored 120×60 with orientation 6 (turn 90° clockwise to view): upright it is 60×120.
    owner = make_user()
    body = uploaded(client, owner, jpeg(120, 60, exif_orientation=6, gps=PHOENIX_SEE))
    assert (body["width"], body["height"]) == (60, 120)
    data, image = fetch_image(client, body["url"], owner)
    assert image.size == (60, 120)
    assert_clean(data, image)
    # The red marker of the stored top-left corner is now at the top right.
    r, g, b = image.convert("RGB").getpixel((image.width - 3, 3))
    assert r > 180 and g < 90 and b < 90
    r, g, b = image.convert("RGB").getpixel((2, 2))
    assert not (r > 180 and g < 90 and b < 90)
    _thumb_data, thumb = fetch_image(client, body["thumbnail_url"], owner)
    assert thumb.size == (60, 120)


def test_small_photos_are_not_enlarged(client, make_user, storage):
    owner = make_user()
    body = uploaded(client, owner, jpeg(200, 100))
    _data, image = fetch_image(client, body["url"], owner)
    assert image.size == (200, 100)
    _data, thumb = fetch_image(client, body["thumbnail_url"], owner)
    assert max(thumb.size) <= 400 and thumb.size == (200, 100)


@pytest.mark.slow
def test_a_phone_photo_is_at_most_2048_px_upright_and_its_thumbnail_about_400(client, make_user, storage):
    user = make_user()
    r = file_multipart(client, user, [twelve_megapixel_jpeg()])
    assert r.status_code == 201, r.get_json()
    photo = r.get_json()["photos"][0]
    # 4000×3000 held upright (orientation 6): 1536×2048.
    assert (photo["width"], photo["height"]) == (1536, 2048)
    data, image = fetch_image(client, photo["url"])
    assert image.size == (1536, 2048)
    assert_clean(data, image)
    data, thumb = fetch_image(client, photo["thumbnail_url"])
    assert max(thumb.size) <= 400 and thumb.height > thumb.width and max(thumb.size) >= 300
    assert_clean(data, thumb)


# ---------------------------------------------------------------------------------------
# Who sees which photo
# ---------------------------------------------------------------------------------------


def photo_urls(report: dict) -> list[str]:
    return [u for p in report["photos"] for u in (p["url"], p["thumbnail_url"])]


def assert_only_insiders_see(client, urls, reporter, make_user):
    moderator, staff, other = make_user("moderator"), make_user("staff"), make_user()
    for url in urls:
        assert fetch(client, url).status_code == 404
        assert fetch(client, url, other).status_code == 404
        for insider in (reporter, moderator, staff):
            r = fetch(client, url, insider)
            assert r.status_code == 200, url
            # Never in a shared cache.
            assert "no-store" in r.headers["Cache-Control"] and "public" not in r.headers["Cache-Control"]


def test_photos_of_a_public_report_are_public(client, make_user, storage):
    r = file_multipart(client, make_user(), [jpeg(64, 48)])
    urls = photo_urls(r.get_json())
    assert len(urls) == 2
    for url in urls:
        answer = fetch(client, url)
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"].startswith("public")


def test_photos_of_a_pending_unsafe_place_only_for_reporter_moderators_and_staff(client, make_user, storage):
    reporter = make_user()
    r = file_multipart(client, reporter, [jpeg(64, 48)], **UNSAFE)
    assert r.status_code == 201 and r.get_json()["status"] == "pending"
    assert_only_insiders_see(client, photo_urls(r.get_json()), reporter, make_user)


def test_photos_of_a_hidden_litter_report_only_for_reporter_moderators_and_staff(client, make_user, storage):
    reporter, moderator = make_user(), make_user("moderator")
    report = file_multipart(client, reporter, [jpeg(64, 48), png(40, 30)]).get_json()
    urls = photo_urls(report)
    assert all(fetch(client, url).status_code == 200 for url in urls)
    r = client.post(
        DECISIONS, json={"target_type": "report", "target_id": report["id"], "action": "hide", "reason_code": "personal_data"},
        headers=moderator.headers,
    )
    assert r.status_code == 201, r.get_json()
    assert_only_insiders_see(client, urls, reporter, make_user)


def test_an_unattached_upload_only_for_its_owner(client, make_user, storage):
    owner = make_user()
    body = uploaded(client, owner, jpeg(64, 48))
    for url in (body["url"], body["thumbnail_url"]):
        assert fetch(client, url, owner).status_code == 200
        assert fetch(client, url).status_code == 404
        for someone in (make_user(), make_user("moderator"), make_user("staff")):
            assert fetch(client, url, someone).status_code == 404


@pytest.mark.parametrize("key", ["aa/nothere.jpg", "../etc/passwd", "aa/..%2f..%2fetc"])
def test_unknown_photo_keys_are_404(client, storage, key):
    assert client.get(f"/api/v1/photos/{key}").status_code == 404


def test_a_known_etag_answers_304(client, make_user, storage):
    url = file_multipart(client, make_user(), [jpeg(64, 48)]).get_json()["photos"][0]["url"]
    first = client.get(url)
    assert first.status_code == 200 and first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


# ---------------------------------------------------------------------------------------
# Photo first, then the report
# ---------------------------------------------------------------------------------------


def test_photo_first_then_the_report_takes_it(client, make_user, session, storage):
    user = make_user()
    first, second = uploaded(client, user, jpeg(64, 48)), uploaded(client, user, png(40, 30))
    r = client.post(REPORTS, json={**LITTER, "photo_ids": [second["id"], first["id"]]}, headers=user.headers)
    assert r.status_code == 201, r.get_json()
    report = r.get_json()
    # In the order given, under the URLs the uploads answered.
    assert [p["url"] for p in report["photos"]] == [second["url"], first["url"]]
    assert [p["thumbnail_url"] for p in report["photos"]] == [second["thumbnail_url"], first["thumbnail_url"]]
    assert [(p["width"], p["height"]) for p in report["photos"]] == [(40, 30), (64, 48)]
    # Now public, with the report.
    assert fetch(client, first["url"]).status_code == 200
    assert {p.report_id for p in session.scalars(select(ReportPhoto))} == {report["id"]}


def test_an_upload_is_used_by_one_report_only(client, make_user, session, storage):
    user = make_user()
    photo = uploaded(client, user, jpeg(64, 48))
    assert client.post(REPORTS, json={**LITTER, "photo_ids": [photo["id"]]}, headers=user.headers).status_code == 201
    r = client.post(REPORTS, json={**LITTER, "photo_ids": [photo["id"]]}, headers=user.headers)
    assert r.status_code == 422 and "photo_ids" in r.get_json()["errors"]
    assert count(session, Report) == 1


def test_only_the_owner_may_use_an_upload(client, make_user, session, storage):
    owner, other = make_user(), make_user()
    photo = uploaded(client, owner, jpeg(64, 48))
    r = client.post(REPORTS, json={**LITTER, "photo_ids": [photo["id"]]}, headers=other.headers)
    assert r.status_code == 422 and "photo_ids" in r.get_json()["errors"]
    assert count(session, Report) == 0
    # Still the owner's to use.
    assert session.get(ReportPhoto, photo["id"]).report_id is None
    assert client.post(REPORTS, json={**LITTER, "photo_ids": [photo["id"]]}, headers=owner.headers).status_code == 201


@pytest.mark.parametrize("how", ["ids", "repeated"])
def test_more_than_three_or_repeated_photo_ids_are_422(client, make_user, session, storage, how):
    user = make_user()
    photos = [uploaded(client, user, jpeg(64 + i, 48))["id"] for i in range(4 if how == "ids" else 1)]
    ids = photos if how == "ids" else photos * 2
    r = client.post(REPORTS, json={**LITTER, "photo_ids": ids}, headers=user.headers)
    assert r.status_code == 422 and "photo_ids" in r.get_json()["errors"]
    assert count(session, Report) == 0
    assert session.scalar(select(func.count()).where(ReportPhoto.report_id.is_not(None))) == 0


def test_photo_ids_in_a_form_are_refused(client, make_user, session, storage):
    """`photo_ids` belong to JSON bodies; a form with files and photo_ids files nothing."""
    user = make_user()
    photo = uploaded(client, user, jpeg(64, 48))
    r = file_multipart(client, user, [jpeg(64, 48)], photo_ids=photo["id"])
    assert r.status_code == 422, r.get_json()
    assert any(name.startswith("photo_ids") for name in r.get_json()["errors"]), r.get_json()
    assert count(session, Report) == 0
    assert session.get(ReportPhoto, photo["id"]).report_id is None
    # Only the first upload's two files are stored.
    assert len(stored_files(storage.root_path)) == 2


def test_an_upload_needs_exactly_one_photo(client, make_user, storage):
    user = make_user()
    r = client.post("/api/v1/reports/photos", data={}, content_type="multipart/form-data", headers=user.headers)
    assert r.status_code == 422 and "photo" in r.get_json()["errors"]
    r = client.post(
        "/api/v1/reports/photos",
        data={"photo": [(BytesIO(jpeg(64, 48)), "a.jpg"), (BytesIO(jpeg(64, 48)), "b.jpg")]},
        content_type="multipart/form-data", headers=user.headers,
    )
    assert r.status_code == 422 and "photo" in r.get_json()["errors"]
    assert stored_files(storage.root_path) == []
    assert upload_photo(client, None, jpeg(64, 48)).status_code == 401


def age_photo(session, photo_id: int, hours: float) -> None:
    session.execute(update(ReportPhoto).where(ReportPhoto.id == photo_id).values(created_at=utcnow() - timedelta(hours=hours)))
    session.commit()


def photo_files(storage, body: dict) -> list[bool]:
    return [storage.exists(url.removeprefix("/api/v1/photos/")) for url in (body["url"], body["thumbnail_url"])]


def test_unused_uploads_expire_with_the_next_upload(client, make_user, session, storage):
    user = make_user()
    stale, fresh = uploaded(client, user, jpeg(64, 48)), uploaded(client, user, jpeg(65, 48))
    used = uploaded(client, user, jpeg(66, 48))
    assert client.post(REPORTS, json={**LITTER, "photo_ids": [used["id"]]}, headers=user.headers).status_code == 201
    age_photo(session, stale["id"], 25)
    age_photo(session, used["id"], 25)
    age_photo(session, fresh["id"], 23)
    assert photo_files(storage, stale) == [True, True]

    newest = uploaded(client, make_user(), jpeg(67, 48))
    session.expire_all()
    assert session.get(ReportPhoto, stale["id"]) is None
    assert photo_files(storage, stale) == [False, False]
    assert fetch(client, stale["url"], user).status_code == 404
    # Within its lifetime, or taken by a report: kept.
    for kept in (fresh, used, newest):
        assert session.get(ReportPhoto, kept["id"]) is not None
        assert photo_files(storage, kept) == [True, True]
    assert len(stored_files(storage.root_path)) == 6
    # An expired upload can no longer be used.
    r = client.post(REPORTS, json={**LITTER, "photo_ids": [stale["id"]]}, headers=user.headers)
    assert r.status_code == 422 and "photo_ids" in r.get_json()["errors"]


def test_expire_unattached_photos_removes_rows_and_files(client, make_user, session, storage, app):
    from api.reports.routes import report_policy

    user = make_user()
    stale = [uploaded(client, user, jpeg(64 + i, 48)) for i in range(2)]
    fresh = uploaded(client, user, jpeg(70, 48))
    for body in stale:
        age_photo(session, body["id"], 24 * 3)
    with app.test_request_context():
        policy = report_policy()
    assert domain.expire_unattached_photos(session, storage, policy) == 2
    # Files go only once the deletion is committed.
    assert all(photo_files(storage, body) == [True, True] for body in stale)
    session.commit()
    assert all(photo_files(storage, body) == [False, False] for body in stale)
    assert count(session, ReportPhoto) == 1 and session.get(ReportPhoto, fresh["id"]) is not None
    assert len(stored_files(storage.root_path)) == 2
    assert domain.expire_unattached_photos(session, storage, policy) == 0


def test_an_expiry_that_is_rolled_back_keeps_the_files(client, make_user, session, storage, app):
    from api.reports.routes import report_policy

    body = uploaded(client, make_user(), jpeg(64, 48))
    age_photo(session, body["id"], 48)
    with app.test_request_context():
        policy = report_policy()
    assert domain.expire_unattached_photos(session, storage, policy) == 1
    session.rollback()
    assert session.get(ReportPhoto, body["id"]) is not None
    assert photo_files(storage, body) == [True, True]


def test_an_upload_past_its_lifetime_cannot_be_used_even_before_the_sweep(client, make_user, session, storage):
    user = make_user()
    photo = uploaded(client, user, jpeg(64, 48))
    age_photo(session, photo["id"], 25)
    r = client.post(REPORTS, json={**LITTER, "photo_ids": [photo["id"]]}, headers=user.headers)
    assert r.status_code == 422, r.get_json()
    assert "photo_ids" in r.get_json()["errors"]
