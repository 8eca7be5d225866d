"""Photo pipeline benchmark: a phone's 12 MP JPEG through `process_photo`, against Pillow alone.

    .venv/bin/python bench/photos.py              # best of 7, writes bench/PHOTOS.md
    .venv/bin/python bench/photos.py --runs 15 --out /tmp/PHOTOS.md

The photo is 4000×3000 with EXIF orientation 6 (held upright) and GPS, about 5 MB at quality 92.
(a) Pillow alone, the yardstick: open, `draft`, `exif_transpose`, resize to 2048 px (LANCZOS),
encode JPEG q85 (`media.photos.pillow_only_reference`). (b) `process_photo`: every check, the
GPS read, the resize, the thumbnail and both encodes. (c) (b) plus both files written through
`LocalDirectoryStorage` into a temporary directory. Target: (b) and (c) at most 1.5× (a).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

import PIL
import pillow_heif
from PIL import features

from media.photos import pillow_only_reference, process_photo
from media.storage import LocalDirectoryStorage, new_photo_key
from tests.media.fixtures import twelve_megapixel_jpeg

TARGET = 1.5


def best_ms(fn, runs: int) -> float:
    fn()  # warm-up: imports, plugin registration, allocator
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def _report_request(root: str, data: bytes):
    """One filed report with the photo, through the app on a fresh SQLite database (Flask's
    test client: the server's work without the network)."""
    import io

    from api import create_app
    from api.extensions import db
    from api.migrate import upgrade
    from models.reference import sync_reference_data
    from models.users import create_or_promote

    app = create_app({
        "APP_ENV": "test", "DATABASE_URL": f"sqlite:///{root}/bench.db", "MEDIA_DIR": f"{root}/media",
        "THROTTLE_STORAGE_URI": "memory://", "REQUEST_LOG": False,
        "PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_COST": 1024,
    })
    with app.app_context():
        upgrade(db.engine)
        sync_reference_data(db.session)
        create_or_promote(db.session, "bench@example.org", "correct horse battery", "resident")
        db.session.commit()
    client = app.test_client()
    token = client.post("/api/v1/auth/login", json={"email": "bench@example.org", "password": "correct horse battery"}).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    fields = {"kind": "litter", "category": "illegal_dumping", "description": "Wilde Müllkippe", "lat": "51.5136", "lon": "7.4653"}

    def file_report():
        r = client.post("/api/v1/reports", data={**fields, "photo": (io.BytesIO(data), "IMG_0001.jpg")},
                        headers=headers, content_type="multipart/form-data")
        assert r.status_code == 201, r.get_data(as_text=True)

    return file_report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per case, best one counts (>= 5)")
    parser.add_argument("--out", type=Path, default=BENCH / "PHOTOS.md")
    args = parser.parse_args()
    runs = max(5, args.runs)

    data = twelve_megapixel_jpeg()
    photo = process_photo(data)

    with tempfile.TemporaryDirectory(prefix="bench-photos-") as root:
        storage = LocalDirectoryStorage(root)

        def process_and_store():
            result = process_photo(data)
            key = new_photo_key()
            storage.put(key, result.image, result.content_type)
            storage.put(key.removesuffix(".jpg") + ".thumb.jpg", result.thumbnail, result.content_type)

        pillow_ms = best_ms(lambda: pillow_only_reference(data), runs)
        process_ms = best_ms(lambda: process_photo(data), runs)
        stored_ms = best_ms(process_and_store, runs)
        request_ms = best_ms(_report_request(root, data), runs)

    rows = [
        ("(a) Pillow alone: open, draft, exif_transpose, resize 2048, encode q85", pillow_ms, None),
        ("(b) `process_photo` (checks, GPS, resize, thumbnail, two encodes)", process_ms, process_ms / pillow_ms),
        ("(c) (b) + `LocalDirectoryStorage.put` of photo and thumbnail", stored_ms, stored_ms / pillow_ms),
        ("(d) the whole server side of `POST /api/v1/reports` (multipart with the photo, in-process: parsing, "
         "checks, pipeline, storage, rows, commit, answer)", request_ms, request_ms / pillow_ms),
    ]
    passed = all(ratio <= TARGET for _, _, ratio in rows if ratio is not None)
    command = " ".join([".venv/bin/python", "bench/photos.py", *sys.argv[1:]])
    lines = [
        "# Photo pipeline: a 12 MP phone photo",
        "",
        (f"Input: 4000×3000 JPEG, {len(data) / 1e6:.1f} MB, EXIF orientation 6 + GPS. Output: "
         f"{photo.width}×{photo.height} JPEG ({len(photo.image) / 1e3:.0f} KB) + "
         f"{photo.thumb_width}×{photo.thumb_height} thumbnail ({len(photo.thumbnail) / 1e3:.0f} KB). "
         f"Best of {runs} runs each (`time.perf_counter`), one warm-up run first."),
        "",
        "| case | ms | × Pillow alone |",
        "| --- | ---: | ---: |",
    ]
    for name, ms, ratio in rows:
        lines.append(f"| {name} | {ms:.0f} | {'1.00' if ratio is None else f'{ratio:.2f}'} |")
    lines += [
        "",
        f"Target: (b), (c) and (d) ≤ {TARGET}× Pillow alone — **{'PASS' if passed else 'FAIL'}**.",
        "",
        ("Notes: for a 4000×3000 original `draft` cannot reduce the decode (half scale would be 2000 px, "
         "below the 2048 px output), so both sides decode at full size and the LANCZOS resize "
         "dominates. `process_photo` turns the picture upright after resizing (a 3 MP transpose "
         "instead of 12 MP), which pays for its checks, the thumbnail and the second encode."),
        "",
        f"Command: `{command}`  ",
        (f"Machine: {os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}, "
         f"Pillow {PIL.__version__} (libjpeg-turbo {features.version('libjpeg_turbo') or 'no'}), "
         f"pillow-heif {pillow_heif.__version__}  "),
        f"Measured: {datetime.now(UTC).isoformat(timespec='seconds')}",
        "",
    ]
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
