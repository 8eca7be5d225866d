"""Shared helpers for the report tests: payloads, known places, filing through the HTTP API.

`from tests.reports.helpers import LITTER, UNSAFE, file_report, file_multipart, ALTER_MARKT`
"""
from __future__ import annotations

from io import BytesIO

from sqlalchemy import func, select

# Known places (lat, lon) and the district the city map must derive for them.
ALTER_MARKT = (51.5136, 7.4653)  # innenstadt-west
ALTER_MARKT_DISTRICT = "innenstadt-west"
PHOENIX_SEE = (51.4875, 7.5127)  # hoerde
PHOENIX_SEE_DISTRICT = "hoerde"
# Outside Dortmund (neighbouring towns).
SCHWERTE = (51.4456, 7.5653)
LUENEN = (51.6160, 7.5280)

LITTER = {
    "kind": "litter",
    "category": "illegal_dumping",
    "description": "Sperrmüll und Säcke neben dem Glascontainer",
    "lat": ALTER_MARKT[0],
    "lon": ALTER_MARKT[1],
}
UNSAFE = {
    "kind": "unsafe_place",
    "category": "poor_lighting",
    "description": "Die Unterführung ist nachts völlig dunkel",
    "lat": PHOENIX_SEE[0],
    "lon": PHOENIX_SEE[1],
}

REPORTS = "/api/v1/reports"
PHOTOS = "/api/v1/reports/photos"


def file_report(client, user, base: dict | None = None, headers: dict | None = None, **overrides) -> dict:
    """File a report as JSON (LITTER unless `base` says otherwise); asserts 201, returns the report."""
    payload = {**(base or LITTER), **overrides}
    r = client.post(REPORTS, json=payload, headers={**user.headers, **(headers or {})})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def file_unsafe(client, user, **overrides) -> dict:
    """File an unsafe-place report (starts `pending`)."""
    return file_report(client, user, base=UNSAFE, **overrides)


def file_multipart(client, user, photos: list[bytes] = (), headers: dict | None = None, names: list[str] | None = None,
                   **fields):
    """POST /reports as multipart/form-data with `photos` as files `photo`; returns the response.

    `fields` override LITTER; a field given as None is left out.
    """
    values = {**LITTER, **fields}
    data: dict = {k: str(v) for k, v in values.items() if v is not None}
    if photos:
        names = names or [f"photo{i}.jpg" for i in range(len(photos))]
        data["photo"] = [(BytesIO(content), name) for content, name in zip(photos, names)]
    return client.post(
        REPORTS, data=data, content_type="multipart/form-data", headers={**(user.headers if user else {}), **(headers or {})}
    )


def upload_photo(client, user, content: bytes, name: str = "photo.jpg", headers: dict | None = None):
    """POST /reports/photos (photo-first); returns the response."""
    return client.post(
        PHOTOS, data={"photo": (BytesIO(content), name)}, content_type="multipart/form-data",
        headers={**(user.headers if user else {}), **(headers or {})},
    )


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def stored_files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
