"""Image builders for tests: real files with real metadata, made in memory.

Other test modules import these (`from tests.media.fixtures import jpeg, png_bomb`).
"""
from __future__ import annotations

import struct
import zlib
from fractions import Fraction
from io import BytesIO

import numpy as np
from PIL import Image, PngImagePlugin

try:
    import pillow_heif

    pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
    HEIC_ENCODER = bool(pillow_heif.libheif_info().get("HEIF"))
except ImportError:  # pragma: no cover - pillow-heif is a requirement
    HEIC_ENCODER = False

DORTMUND = (51.513587, 7.465298)
XMP_PACKET = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
    b' exif:GPSLatitude="51,30.8152N" exif:GPSLongitude="7,27.9179E" xmp:CreatorTool="Secret Phone 15"/>'
    b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)
MAKER_NOTE = b"Apple iOS\x00\x00\x01MM" + b"serial-F2LXK0QJHG7F" * 4


def _dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
    value = abs(value)
    degrees = int(value)
    minutes_full = (value - degrees) * 60
    minutes = int(minutes_full)
    seconds = Fraction(round((minutes_full - minutes) * 60 * 10000), 10000)
    return Fraction(degrees), Fraction(minutes), seconds


def exif_block(orientation: int | None = None, gps: tuple[float, float] | None = None,
               maker_note: bool = True) -> Image.Exif:
    """Camera-like EXIF: make/model, orientation (0x0112), GPS IFD (0x8825), a maker note."""
    exif = Image.Exif()
    exif[0x010F] = "SecretPhone Inc."  # Make
    exif[0x0110] = "SecretPhone 15 Pro"  # Model
    exif[0x0131] = "SecretOS 17.4"  # Software
    if orientation is not None:
        exif[0x0112] = orientation
    if maker_note:
        exif_ifd = exif.get_ifd(0x8769)
        exif_ifd[0x927C] = MAKER_NOTE  # MakerNote
        exif_ifd[0x9003] = "2024:05:04 10:11:12"  # DateTimeOriginal
        exif_ifd[0xA431] = "F2LXK0QJHG7F"  # BodySerialNumber
    if gps is not None:
        lat, lon = gps
        gps_ifd = exif.get_ifd(0x8825)
        gps_ifd[0x0000] = b"\x02\x03\x00\x00"  # GPSVersionID
        gps_ifd[0x0001] = "N" if lat >= 0 else "S"
        gps_ifd[0x0002] = _dms(lat)
        gps_ifd[0x0003] = "E" if lon >= 0 else "W"
        gps_ifd[0x0004] = _dms(lon)
    return exif


def _picture(width: int, height: int, mode: str = "RGB", seed: int = 1) -> Image.Image:
    """Gradients, shapes and grain: looks enough like a photo that JPEG sizes are realistic."""
    rng = np.random.default_rng(seed)
    x = np.arange(width, dtype=np.float32)[None, :]
    y = np.arange(height, dtype=np.float32)[:, None]
    rgb = np.empty((height, width, 3), dtype=np.float32)
    rgb[..., 0] = 127 + 100 * np.sin(x / (width / 6.0)) * np.cos(y / (height / 4.0))
    rgb[..., 1] = 255 * (y / max(height - 1, 1))
    rgb[..., 2] = 255 * (x / max(width - 1, 1))
    # Top-left marker: red, so tests can tell which way a picture was turned.
    rgb[: max(1, height // 8), : max(1, width // 8)] = (255, 0, 0)
    rgb += rng.standard_normal(size=rgb.shape, dtype=np.float32) * 12
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    return image if mode == "RGB" else image.convert(mode)


def jpeg(width: int = 800, height: int = 600, exif_orientation: int | None = None,
         gps: tuple[float, float] | None = None, xmp: bool = False, quality: int = 90,
         maker_note: bool | None = None, icc_profile: bytes | None = None) -> bytes:
    """A JPEG with real EXIF (orientation, GPS IFD, maker note) and optionally an XMP packet."""
    if maker_note is None:
        maker_note = exif_orientation is not None or gps is not None
    params: dict = {"quality": quality}
    if exif_orientation is not None or gps is not None or maker_note:
        params["exif"] = exif_block(exif_orientation, gps, maker_note).tobytes()
    if xmp:
        params["xmp"] = XMP_PACKET
    if icc_profile:
        params["icc_profile"] = icc_profile
    buffer = BytesIO()
    _picture(width, height).save(buffer, format="JPEG", **params)
    return buffer.getvalue()


def png(width: int = 640, height: int = 480, alpha: bool = False, text: bool = False,
        gps: tuple[float, float] | None = None) -> bytes:
    """A PNG; `alpha` makes the right half fully transparent, `text` adds tEXt/iTXt/eXIf chunks."""
    image = _picture(width, height)
    if alpha:
        image = image.convert("RGBA")
        mask = Image.new("L", image.size, 255)
        mask.paste(0, (width // 2, 0, width, height))
        image.putalpha(mask)
    params: dict = {}
    if text:
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "taken at Friedensplatz by Erika Mustermann")
        info.add_itxt("XML:com.adobe.xmp", XMP_PACKET.decode("utf-8"))
        params["pnginfo"] = info
    if text or gps is not None:
        params["exif"] = exif_block(None, gps or DORTMUND).tobytes()
    buffer = BytesIO()
    image.save(buffer, format="PNG", **params)
    return buffer.getvalue()


def webp(width: int = 640, height: int = 480, alpha: bool = False, gps: tuple[float, float] | None = None,
         xmp: bool = False) -> bytes:
    image = _picture(width, height)
    if alpha:
        image = image.convert("RGBA")
        mask = Image.new("L", image.size, 255)
        mask.paste(0, (width // 2, 0, width, height))
        image.putalpha(mask)
    params: dict = {"quality": 80}
    if gps is not None:
        params["exif"] = exif_block(None, gps).tobytes()
    if xmp:
        params["xmp"] = XMP_PACKET
    buffer = BytesIO()
    image.save(buffer, format="WEBP", **params)
    return buffer.getvalue()


def heic(width: int = 640, height: int = 480, gps: tuple[float, float] | None = None,
         exif_orientation: int | None = None, xmp: bool = False) -> bytes:
    """A HEIC as an iPhone writes it (HEVC in HEIF); callers skip when `HEIC_ENCODER` is False."""
    if not HEIC_ENCODER:
        raise RuntimeError("pillow-heif cannot encode HEIC on this machine")
    params: dict = {"quality": 70}
    if gps is not None or exif_orientation is not None:
        params["exif"] = exif_block(exif_orientation, gps).tobytes()
    if xmp:
        params["xmp"] = XMP_PACKET
    buffer = BytesIO()
    _picture(width, height).save(buffer, format="HEIF", **params)
    return buffer.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A few KB of PNG whose IHDR declares `width`×`height` (900 megapixels by default).

    The IDAT holds the first rows' worth of compressed zeros only: a decoder that trusted the
    header would allocate the whole canvas before noticing.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(b"\x00" * ((width + 1) * 64), 9)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", rows)
            + _png_chunk(b"IEND", b""))


def gif() -> bytes:
    buffer = BytesIO()
    Image.new("P", (32, 32)).save(buffer, format="GIF")
    return buffer.getvalue()


def tiff() -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (32, 32)).save(buffer, format="TIFF")
    return buffer.getvalue()


def not_an_image() -> bytes:
    return b"Hallo Stadt Dortmund, hier liegt Muell am Phoenix-See.\n" * 20


_TWELVE_MP: dict[tuple, bytes] = {}


def twelve_megapixel_jpeg(exif_orientation: int | None = 6, gps: tuple[float, float] | None = DORTMUND) -> bytes:
    """4000×3000, camera-like EXIF (orientation 6 = held upright, GPS): a phone's photo. Cached."""
    key = (exif_orientation, gps)
    if key not in _TWELVE_MP:
        _TWELVE_MP[key] = jpeg(4000, 3000, exif_orientation=exif_orientation, gps=gps, quality=92)
    return _TWELVE_MP[key]
