"""The photo pipeline: formats by content, fast refusals, upright output, no metadata left."""
from __future__ import annotations

import subprocess
import sys
import time
import warnings
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFile

from media import photos
from media.messages import MESSAGES
from media.photos import (
    PhotoTooLarge,
    PhotoTooManyPixels,
    PhotoUnreadable,
    PhotoUnsupported,
    process_photo,
    sniff_format,
)
from models.errors import DomainError
from tests.media import fixtures

needs_heic = pytest.mark.skipif(not fixtures.HEIC_ENCODER, reason="pillow-heif cannot encode HEIC here")


@pytest.fixture
def load_calls(monkeypatch):
    """Counts every pixel decode: Pillow's plugins all decode through one of these two."""
    calls = []
    for cls in (Image.Image, ImageFile.ImageFile):
        original = cls.load

        def counting(self, _original=original):
            calls.append(type(self).__name__)
            return _original(self)

        monkeypatch.setattr(cls, "load", counting)
    return calls


def opened(data: bytes) -> Image.Image:
    im = Image.open(BytesIO(data))
    im.load()
    return im


def assert_no_metadata(data: bytes) -> None:
    im = opened(data)
    assert im.format == "JPEG"
    assert dict(im.getexif()) == {}
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment"):
        assert key not in im.info, key
    assert not any(isinstance(v, (str, bytes)) and len(v) > 32 for v in im.info.values()), im.info
    assert b"Exif" not in data
    assert b"http://ns.adobe.com/xap" not in data
    assert b"xmpmeta" not in data
    for secret in (b"SecretPhone", b"F2LXK0QJHG7F", b"Mustermann", b"Friedensplatz", b"Apple iOS"):
        assert secret not in data, secret


def rgb_at(data: bytes, x: float, y: float) -> tuple[int, int, int]:
    im = opened(data)
    return im.getpixel((int(x * (im.width - 1)), int(y * (im.height - 1))))


def is_red(pixel) -> bool:
    r, g, b = pixel[:3]
    return r > 180 and g < 90 and b < 90


# -- formats by content ------------------------------------------------------------------------

@pytest.mark.parametrize("build, expected", [
    (fixtures.jpeg, "JPEG"),
    (fixtures.png, "PNG"),
    (fixtures.webp, "WEBP"),
    pytest.param(fixtures.heic, "HEIF", marks=needs_heic),
])
def test_formats_are_told_by_their_bytes(build, expected):
    data = build()
    assert sniff_format(data) == expected
    photo = process_photo(data)
    assert photo.content_type == "image/jpeg"
    assert opened(photo.image).format == "JPEG"
    assert opened(photo.thumbnail).format == "JPEG"


def test_a_png_sent_as_jpg_is_still_a_photo():
    # The pipeline never sees a name: a PNG uploaded as "muell.jpg" is handled as the PNG it is.
    photo = process_photo(fixtures.png(320, 240))
    assert (photo.width, photo.height) == (320, 240)


AVIF_FTYP = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 64
MIF1_AVIF_FTYP = b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00avifmiaf" + b"\x00" * 64


@pytest.mark.parametrize("data", [
    pytest.param(fixtures.not_an_image(), id="text-named-jpg"),
    pytest.param(fixtures.gif(), id="gif"),
    pytest.param(fixtures.tiff(), id="tiff"),
    pytest.param(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', id="svg"),
    pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", id="pdf"),
    pytest.param(AVIF_FTYP, id="avif"),
    pytest.param(MIF1_AVIF_FTYP, id="mif1-avif"),
    pytest.param(b"", id="empty"),
    pytest.param(b"\xff\xd8", id="two-bytes"),
])
def test_anything_else_is_unsupported(data):
    assert sniff_format(data) is None
    with pytest.raises(PhotoUnsupported) as caught:
        process_photo(data)
    assert caught.value.http_status == 415
    assert caught.value.message_key == "photo_unsupported_type"
    assert caught.value.errors == {"photo": ["photo_unsupported_type"]}


def test_heif_brands():
    for brand in (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"):
        head = b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00mif1" + brand
        assert sniff_format(head + b"\x00" * 32) == "HEIF", brand
    # A generic brand naming HEVC as well as AVIF is a HEIC with an AVIF fallback listed.
    assert sniff_format(b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00avifheicmiaf" + b"\x00" * 32) == "HEIF"


# -- fast refusals ---------------------------------------------------------------------------------

def test_a_decompression_bomb_is_refused_fast_without_decoding(load_calls):
    bomb = fixtures.png_bomb()
    assert len(bomb) < 50_000
    started = time.perf_counter()
    with pytest.raises(PhotoTooManyPixels) as caught:
        process_photo(bomb)
    assert time.perf_counter() - started < 1.0
    assert load_calls == []
    assert caught.value.http_status == 422
    assert caught.value.errors == {"photo": ["photo_too_many_pixels"]}


def test_pillows_own_bomb_error_becomes_too_many_pixels(load_calls):
    # With the caller's limit out of the way, Pillow's process-wide ceiling still holds.
    with pytest.raises(PhotoTooManyPixels):
        process_photo(fixtures.png_bomb(), max_pixels=10**12)
    assert load_calls == []


def test_a_bomb_warning_made_an_error_becomes_too_many_pixels(load_calls):
    bomb = fixtures.png_bomb(8000, 8000)  # 64 MP: above Pillow's warning line, below its error line
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with pytest.raises(PhotoTooManyPixels):
            process_photo(bomb, max_pixels=10**9)
    assert load_calls == []


def test_thirty_megabytes_are_refused_before_opening(monkeypatch):
    opens = []
    monkeypatch.setattr(Image, "open", lambda *a, **k: opens.append(a))
    data = b"\xff\xd8\xff\xe0" + bytes(30 * 1024 * 1024)
    started = time.perf_counter()
    with pytest.raises(PhotoTooLarge) as caught:
        process_photo(data)
    assert time.perf_counter() - started < 1.0
    assert opens == []
    assert caught.value.http_status == 413
    assert caught.value.params == {"max_mb": 15}


def test_the_byte_limit_is_inclusive():
    data = fixtures.jpeg(64, 48)
    assert process_photo(data, max_bytes=len(data)).width == 64
    with pytest.raises(PhotoTooLarge):
        process_photo(data, max_bytes=len(data) - 1)


def test_more_pixels_than_allowed_are_refused_without_decoding(load_calls):
    data = fixtures.jpeg(800, 600)
    load_calls.clear()  # building the fixture decoded its own canvas
    with pytest.raises(PhotoTooManyPixels) as caught:
        process_photo(data, max_pixels=800 * 600 - 1)
    assert load_calls == []
    assert caught.value.params == {"max_megapixels": 0}
    assert process_photo(data, max_pixels=800 * 600).width == 800


# -- broken files ----------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    pytest.param(fixtures.jpeg(800, 600)[:9000], id="jpeg-cut-in-scan"),
    pytest.param(fixtures.jpeg(800, 600)[:300], id="jpeg-cut-in-header"),
    pytest.param(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8, id="jpeg-magic-then-garbage"),
    pytest.param(fixtures.png(320, 240)[:5000], id="png-cut"),
    pytest.param(fixtures.png(320, 240)[:40], id="png-cut-in-header"),
    pytest.param(fixtures.webp(320, 240)[:600], id="webp-cut"),
])
def test_broken_files_are_unreadable_not_server_errors(data):
    with pytest.raises(PhotoUnreadable) as caught:
        process_photo(data)
    assert isinstance(caught.value, DomainError)
    assert caught.value.http_status == 422
    assert caught.value.errors == {"photo": ["photo_unreadable"]}


@needs_heic
def test_a_cut_heic_is_unreadable():
    data = fixtures.heic(320, 240)
    with pytest.raises(PhotoUnreadable):
        process_photo(data[: len(data) // 2])


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_broken_exif_does_not_cost_the_photo():
    data = fixtures.jpeg(320, 240, exif_orientation=6, gps=fixtures.DORTMUND)
    start = data.index(b"Exif\x00\x00") + 6
    broken = data[:start] + b"MM\x00\x2a\xff\xff\xff\xff" + data[start + 8:]
    photo = process_photo(broken)
    assert max(photo.width, photo.height) == 320
    assert photo.suggested_location is None


# -- upright and sized -----------------------------------------------------------------------------

@pytest.mark.parametrize("orientation, size", [
    (None, (800, 600)), (1, (800, 600)), (2, (800, 600)), (3, (800, 600)), (4, (800, 600)),
    (5, (600, 800)), (6, (600, 800)), (7, (600, 800)), (8, (600, 800)),
])
def test_every_exif_orientation_comes_out_upright(orientation, size):
    photo = process_photo(fixtures.jpeg(800, 600, exif_orientation=orientation))
    assert (photo.width, photo.height) == size
    assert opened(photo.image).size == size


def test_orientation_6_turns_the_picture_clockwise():
    # The stored picture's red corner is top left; a phone held upright (6) shows it top right.
    photo = process_photo(fixtures.jpeg(800, 600, exif_orientation=6))
    assert photo.height > photo.width
    assert is_red(rgb_at(photo.image, 0.97, 0.03))
    assert not is_red(rgb_at(photo.image, 0.03, 0.03))
    assert is_red(rgb_at(photo.thumbnail, 0.97, 0.03))


def test_orientation_8_turns_the_picture_anticlockwise():
    photo = process_photo(fixtures.jpeg(800, 600, exif_orientation=8))
    assert is_red(rgb_at(photo.image, 0.03, 0.97))


@pytest.mark.slow
def test_a_twelve_megapixel_photo_is_resized_once_to_2048():
    photo = process_photo(fixtures.twelve_megapixel_jpeg())
    assert (photo.width, photo.height) == (1536, 2048)
    assert (photo.thumb_width, photo.thumb_height) == (300, 400)
    assert opened(photo.image).size == (1536, 2048)
    assert opened(photo.thumbnail).size == (300, 400)
    assert len(photo.image) < 1_500_000
    assert photo.suggested_location == pytest.approx(fixtures.DORTMUND, abs=1e-5)
    assert_no_metadata(photo.image)
    assert_no_metadata(photo.thumbnail)


@pytest.mark.parametrize("size, expected, thumb", [
    ((4100, 1000), (2048, 500), (400, 98)),
    ((2049, 2049), (2048, 2048), (400, 400)),
    ((2048, 1024), (2048, 1024), (400, 200)),
    ((300, 200), (300, 200), (300, 200)),
    ((1, 1), (1, 1), (1, 1)),
    ((3000, 10), (2048, 7), (400, 1)),
])
def test_sizes_keep_the_aspect_and_never_upscale(size, expected, thumb):
    photo = process_photo(fixtures.jpeg(*size))
    assert (photo.width, photo.height) == expected
    assert (photo.thumb_width, photo.thumb_height) == thumb
    assert opened(photo.image).size == expected
    assert opened(photo.thumbnail).size == thumb


def test_draft_request_keeps_the_longest_edge_reachable():
    for width, height in ((4000, 3000), (3000, 4000), (8064, 6048), (4096, 4096), (9000, 1000)):
        w, h = photos._draft_request(width, height)
        assert max(w, h) == photos.MAX_EDGE
        # The scale draft will choose (largest power of two that keeps both sides >= request).
        scale = min(width // w, height // h)
        scale = next(s for s in (8, 4, 2, 1) if scale >= s)
        assert max(-(-width // scale), -(-height // scale)) >= photos.MAX_EDGE


def test_a_large_jpeg_is_decoded_at_reduced_scale(monkeypatch):
    sizes = []
    original = photos._to_working_mode
    monkeypatch.setattr(photos, "_to_working_mode", lambda im: sizes.append(im.size) or original(im))
    photo = process_photo(fixtures.jpeg(4400, 4400, quality=60))
    assert sizes == [(2200, 2200)]
    assert (photo.width, photo.height) == (2048, 2048)


# -- location from the original ----------------------------------------------------------------------

@pytest.mark.parametrize("gps", [
    (51.513587, 7.465298),     # Dortmund: N, E
    (-33.868820, -70.093104),  # S, W
    (-0.5, 179.25),
    (89.999, -179.999),
])
def test_gps_is_offered_as_a_suggested_location(gps):
    photo = process_photo(fixtures.jpeg(320, 240, gps=gps))
    assert photo.suggested_location == pytest.approx(gps, abs=1e-5)
    assert_no_metadata(photo.image)


@pytest.mark.parametrize("gps", [(0.0, 0.0), (95.0, 7.0), (51.0, 181.0)])
def test_implausible_gps_is_not_offered(gps):
    assert process_photo(fixtures.jpeg(320, 240, gps=gps)).suggested_location is None


def test_no_gps_means_no_suggestion():
    assert process_photo(fixtures.jpeg(320, 240)).suggested_location is None
    assert process_photo(fixtures.jpeg(320, 240, exif_orientation=1)).suggested_location is None


def test_gps_values_that_are_not_numbers_mean_no_suggestion():
    assert photos._gps_location({1: "N", 2: (51.0, 30.0, float("nan")), 3: "E", 4: (7.0, 0, 0)}) is None
    assert photos._gps_location({1: "N", 2: "junk", 3: "E", 4: (7.0, 0, 0)}) is None
    assert photos._gps_location({2: (51.0, 30.0, 0.0), 4: (7.0, 30.0, 0.0)}) == (51.5, 7.5)
    assert photos._gps_location({1: b"S\x00", 2: (1, 0, 0), 3: b"W", 4: (2, 0, 0)}) == (-1.0, -2.0)


@needs_heic
def test_heic_gps_and_orientation():
    photo = process_photo(fixtures.heic(640, 480, gps=(-33.86882, 151.20929), exif_orientation=6, xmp=True))
    assert (photo.width, photo.height) == (480, 640)
    assert is_red(rgb_at(photo.image, 0.97, 0.03))
    assert photo.suggested_location == pytest.approx((-33.86882, 151.20929), abs=1e-5)


def test_png_and_webp_gps():
    assert process_photo(fixtures.png(320, 240, gps=(50.1, 8.2))).suggested_location == pytest.approx((50.1, 8.2))
    assert process_photo(fixtures.webp(320, 240, gps=(-1.5, -2.5))).suggested_location == pytest.approx((-1.5, -2.5))


# -- nothing of the original's metadata leaves ---------------------------------------------------------

@pytest.mark.parametrize("build", [
    pytest.param(lambda: fixtures.jpeg(1200, 900, exif_orientation=6, gps=fixtures.DORTMUND, xmp=True), id="jpeg"),
    pytest.param(lambda: fixtures.png(640, 480, text=True), id="png-text-exif"),
    pytest.param(lambda: fixtures.webp(640, 480, gps=fixtures.DORTMUND, xmp=True), id="webp"),
    pytest.param(lambda: fixtures.heic(640, 480, gps=fixtures.DORTMUND, exif_orientation=3, xmp=True),
                 id="heic", marks=needs_heic),
])
def test_outputs_carry_no_metadata(build):
    data = build()
    original = Image.open(BytesIO(data))
    assert original.getexif() or "xmp" in original.info or "XML:com.adobe.xmp" in original.info
    photo = process_photo(data)
    assert_no_metadata(photo.image)
    assert_no_metadata(photo.thumbnail)


def test_the_icc_profile_is_not_carried_over():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = fixtures.jpeg(320, 240, icc_profile=srgb)
    assert "icc_profile" in Image.open(BytesIO(data)).info
    photo = process_photo(data)
    assert_no_metadata(photo.image)


def test_a_wide_gamut_profile_is_converted_to_srgb_before_it_is_dropped(monkeypatch):
    # Pillow can only build sRGB/LAB/XYZ profiles; a relabelled sRGB one takes the conversion path.
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    conversions = []
    real = ImageCms.profileToProfile
    monkeypatch.setattr(ImageCms, "getProfileDescription", lambda profile: "Display P3")
    monkeypatch.setattr(ImageCms, "profileToProfile",
                        lambda *a, **k: conversions.append(k) or real(*a, **k))
    photo = process_photo(fixtures.jpeg(320, 240, icc_profile=srgb))
    assert conversions == [{"outputMode": "RGB"}]
    assert is_red(rgb_at(photo.image, 0.02, 0.02))
    assert_no_metadata(photo.image)


# -- colour modes ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("build", [
    pytest.param(lambda: fixtures.png(320, 240, alpha=True), id="png"),
    pytest.param(lambda: fixtures.webp(320, 240, alpha=True), id="webp"),
])
def test_transparency_is_flattened_onto_white(build):
    photo = process_photo(build())
    im = opened(photo.image)
    assert im.mode == "RGB"
    assert min(rgb_at(photo.image, 0.9, 0.5)) > 240
    assert min(rgb_at(photo.thumbnail, 0.9, 0.5)) > 240
    assert is_red(rgb_at(photo.image, 0.02, 0.02))


def _saved(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def test_other_colour_modes_come_out_rgb():
    palette = Image.new("P", (64, 64), 1)
    palette.putpalette([255, 255, 255, 200, 0, 0] + [0] * 762)
    sixteen_bit = Image.fromarray(np.full((48, 64), 40000, dtype=np.uint16))
    cases = {
        "cmyk-jpeg": _saved(Image.new("CMYK", (64, 48), (0, 255, 255, 0)), "JPEG"),
        "grey-jpeg": _saved(Image.new("L", (64, 48), 128), "JPEG"),
        "palette-png-transparency": _saved(palette, "PNG", transparency=0),
        "bilevel-png": _saved(Image.new("1", (64, 48), 1), "PNG"),
        "grey-alpha-png": _saved(Image.new("LA", (64, 48), (0, 0)), "PNG"),
        "16-bit-grey-png": _saved(sixteen_bit, "PNG"),
    }
    for name, data in cases.items():
        photo = process_photo(data)
        im = opened(photo.image)
        assert im.mode == "RGB", name
    assert min(rgb_at(process_photo(cases["grey-alpha-png"]).image, 0.5, 0.5)) > 240
    assert 140 < rgb_at(process_photo(cases["16-bit-grey-png"]).image, 0.5, 0.5)[0] < 170
    assert is_red(rgb_at(process_photo(cases["cmyk-jpeg"]).image, 0.5, 0.5))


# -- the yardstick, the messages, the layering ---------------------------------------------------------------

def test_pillow_only_reference_is_upright_and_2048():
    out = photos.pillow_only_reference(fixtures.jpeg(3000, 2000, exif_orientation=6))
    assert opened(out).size == (1365, 2048)


def test_every_photo_message_key_has_german_and_english():
    keys = {cls.key for cls in (PhotoUnsupported, PhotoTooLarge, PhotoTooManyPixels, PhotoUnreadable)}
    keys.add("photo_storage_unavailable")
    assert keys <= set(MESSAGES)
    for key in keys:
        assert MESSAGES[key]["de"] and MESSAGES[key]["en"]
    assert MESSAGES["photo_too_large"]["de"].format(max_mb=15) == "Das Foto ist zu groß (höchstens 15 MB)."


def test_media_does_not_import_the_api():
    code = "import sys, media; print(sorted(m for m in sys.modules if m == 'api' or m.startswith(('api.', 'flask'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2]).stdout
    assert out.strip() == "[]"
