"""The photo pipeline: bytes in → checked, upright, metadata-free, resized JPEG out.

One decode per upload: the JPEG decoder is asked for a reduced scale (`draft`) where that still
leaves the longest edge at `MAX_EDGE` or more, the image is resized once, turned upright (on the
small image, which is cheaper than turning the original), and encoded once; the thumbnail is cut
from the resized image. Nothing of the original's metadata is carried over: the outputs are new
encodes from pixels with no `exif`, `xmp` or `icc_profile` passed to the encoder.

Formats are told by their first bytes, never by a file name or a client's content type, and
Pillow is only ever offered the one plugin that matches (`formats=[...]`). AVIF is refused:
pillow-heif's wheels decode HEVC only, and the app asks phones for JPEG, PNG, WebP or HEIC.
"""
from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass
from io import BytesIO

import pillow_heif
from PIL import Image, ImageCms, UnidentifiedImageError

from models.errors import DomainError

MAX_EDGE = 2048
THUMB_EDGE = 400
JPEG_QUALITY = 85
THUMB_QUALITY = 80
MAX_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 50_000_000

# Pillow's own guard, process-wide: it warns above this and raises above twice this, from
# `Image.open`, before any pixel is decoded. `process_photo` checks `max_pixels` itself as well,
# so a caller's lower limit holds even where warnings are not errors.
PIXEL_CEILING = MAX_PIXELS
Image.MAX_IMAGE_PIXELS = PIXEL_CEILING

# Embedded thumbnails, depth maps and auxiliary images are never used here; skipping them keeps
# opening a HEIC cheap and means `draft` can never hand back a preview in place of the photo.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"}
# Generic HEIF brands: HEVC-coded unless the compatible brands say AVIF.
_GENERIC_HEIF_BRANDS = {b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}

# The EXIF orientation tag's meaning, applied to the already resized image. The same table as
# `ImageOps.exif_transpose`, which would turn the full-size original instead.
_ORIENTATION = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}
_TAG_ORIENTATION = 0x0112
_IFD_GPS = 0x8825

# What Pillow's decoders raise on a broken file, besides OSError (truncated data, bad
# markers, `UnidentifiedImageError`); libheif's failures reach Python as RuntimeError.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError,
                  KeyError, RuntimeError, struct.error, zlib.error)

_SRGB = ImageCms.createProfile("sRGB")


class PhotoError(DomainError):
    """Base of the photo refusals; each names the `photo` field in the API's error shape."""

    key = "photo_unreadable"

    def __init__(self, **params):
        super().__init__(self.key, errors={"photo": [self.key]}, **params)


class PhotoUnsupported(PhotoError):
    http_status = 415
    key = "photo_unsupported_type"


class PhotoTooLarge(PhotoError):
    http_status = 413
    key = "photo_too_large"


class PhotoTooManyPixels(PhotoError):
    http_status = 422
    key = "photo_too_many_pixels"


class PhotoUnreadable(PhotoError):
    http_status = 422
    key = "photo_unreadable"


@dataclass(frozen=True)
class ProcessedPhoto:
    image: bytes
    width: int
    height: int
    thumbnail: bytes
    thumb_width: int
    thumb_height: int
    content_type: str = "image/jpeg"
    suggested_location: tuple[float, float] | None = None


def sniff_format(data: bytes) -> str | None:
    """The Pillow format name ("JPEG", "PNG", "WEBP", "HEIF") told by magic bytes, else None."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and _is_heif_ftyp(data):
        return "HEIF"
    return None


def _is_heif_ftyp(data: bytes) -> bool:
    box_size = int.from_bytes(data[:4], "big")
    if box_size < 16 or box_size > 4096 or len(data) < box_size:
        return False
    major = data[8:12]
    compatible = {data[i:i + 4] for i in range(16, box_size - 3, 4)}
    if major in _HEIF_BRANDS:
        return True
    if major in _GENERIC_HEIF_BRANDS:
        return bool(compatible & _HEIF_BRANDS) or not (compatible & _AVIF_BRANDS)
    return False


def process_photo(data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> ProcessedPhoto:
    """Check, decode once, resize to `MAX_EDGE`, turn upright and re-encode without metadata."""
    if len(data) > max_bytes:
        raise PhotoTooLarge(max_mb=max_bytes // (1024 * 1024))
    fmt = sniff_format(data)
    if fmt is None:
        raise PhotoUnsupported()
    try:
        # No `with`: the source is a BytesIO, and closing would invalidate `im` where the
        # pipeline hands it on unchanged (a small RGB photo needs no resize).
        im = Image.open(BytesIO(data), formats=[fmt])
        width, height = im.size
        if width <= 0 or height <= 0 or width * height > max_pixels:
            raise PhotoTooManyPixels(max_megapixels=max_pixels // 1_000_000)
        if fmt == "JPEG":
            im.draft("RGB", _draft_request(width, height))
        im.load()
        # After load: PNG keeps an eXIf chunk behind the pixels, and reading it first
        # would decode the image outside this error handling.
        orientation, location = _read_exif(im)
        icc = im.info.get("icc_profile")
        image = _resize(_to_working_mode(im), MAX_EDGE, Image.Resampling.LANCZOS)
    except PhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoTooManyPixels(max_megapixels=max_pixels // 1_000_000) from exc
    except MemoryError as exc:
        raise PhotoTooManyPixels(max_megapixels=max_pixels // 1_000_000) from exc
    except (UnidentifiedImageError, *_DECODE_ERRORS) as exc:
        raise PhotoUnreadable() from exc

    image = _to_srgb(image, icc)
    image = _flatten(image)
    for method in _ORIENTATION.get(orientation, ()):
        image = image.transpose(method)
    thumb = _resize(image, THUMB_EDGE, Image.Resampling.BILINEAR)
    return ProcessedPhoto(
        image=_encode(image, JPEG_QUALITY), width=image.width, height=image.height,
        thumbnail=_encode(thumb, THUMB_QUALITY), thumb_width=thumb.width, thumb_height=thumb.height,
        suggested_location=location,
    )


def _draft_request(width: int, height: int) -> tuple[int, int]:
    # `draft` picks the largest 1/2/1/4/1/8 scale that keeps both sides at or above the request;
    # asking for the aspect-true size whose longest side is MAX_EDGE keeps the final longest edge
    # reachable whichever way the EXIF orientation turns the picture.
    longest = max(width, height)
    if longest <= MAX_EDGE:
        return width, height
    return max(1, math.ceil(width * MAX_EDGE / longest)), max(1, math.ceil(height * MAX_EDGE / longest))


def _read_exif(im: Image.Image) -> tuple[int, tuple[float, float] | None]:
    # A broken EXIF block must not cost the resident their photo: the picture is still good.
    try:
        exif = im.getexif()
        orientation = int(exif.get(_TAG_ORIENTATION, 1) or 1)
        gps = exif.get_ifd(_IFD_GPS) if _IFD_GPS in exif else {}
    except Exception:  # noqa: BLE001 - any parse failure means "no metadata"
        return 1, None
    return orientation, _gps_location(gps)


def _gps_location(gps: dict) -> tuple[float, float] | None:
    try:
        lat = _degrees(gps[2], gps.get(1, b"N"), b"S")
        lon = _degrees(gps[4], gps.get(3, b"E"), b"W")
    except Exception:  # noqa: BLE001 - absent or malformed GPS IFD
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if abs(lat) > 90 or abs(lon) > 180 or (lat == 0 and lon == 0):
        return None
    return round(lat, 7), round(lon, 7)


def _degrees(value, ref, negative: bytes) -> float:
    if isinstance(value, (int, float)) or not hasattr(value, "__len__"):
        parts = [float(value)]
    else:
        parts = [float(v) for v in value]
    degrees = sum(part / 60**i for i, part in enumerate(parts[:3]))
    if isinstance(ref, str):
        ref = ref.encode("ascii", "ignore")
    return -degrees if ref.strip(b"\x00 ").upper() == negative else degrees


def _to_working_mode(im: Image.Image) -> Image.Image:
    # Modes `resize` handles well and that lead to RGB; alpha is kept until after the resize
    # (Pillow premultiplies while resampling RGBA, so edges stay clean).
    if im.mode in ("P", "PA") or "transparency" in im.info:
        return im.convert("RGBA")
    if im.mode in ("RGB", "L", "RGBA", "LA"):
        return im
    if im.mode.startswith("I") or im.mode == "F":
        # 16-bit greyscale PNG: scale into 8 bits rather than clip everything to white.
        return im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    return im.convert("RGB")


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    # Wide-gamut photos (an iPhone's Display P3) keep their colours once the profile is dropped.
    if not icc or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(BytesIO(icc))
        if ImageCms.getProfileDescription(source).strip().lower().startswith("srgb"):
            return image
        return ImageCms.profileToProfile(image, source, _SRGB, outputMode=image.mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode != "RGB":
        return image.convert("RGB")
    return image


def _resize(image: Image.Image, edge: int, resample: Image.Resampling) -> Image.Image:
    width, height = image.size
    longest = max(width, height)
    if longest <= edge:
        return image
    size = (max(1, round(width * edge / longest)), max(1, round(height * edge / longest)))
    # reducing_gap: a cheap box reduce first, then the filter over the last factor of 3 —
    # indistinguishable from a full LANCZOS pass at these ratios, and much faster.
    return image.resize(size, resample, reducing_gap=3.0)


def _encode(image: Image.Image, quality: int) -> bytes:
    buffer = BytesIO()
    # Passed explicitly so no encoder default can ever carry metadata over from `info`.
    image.save(buffer, format="JPEG", quality=quality, optimize=False, exif=b"", icc_profile=None, xmp=None)
    return buffer.getvalue()


def pillow_only_reference(data: bytes) -> bytes:
    """The yardstick: Pillow alone decoding (with draft), turning upright, resizing to 2048, encoding."""
    from PIL import ImageOps

    with Image.open(BytesIO(data), formats=["JPEG"]) as im:
        im.draft("RGB", _draft_request(*im.size))
        upright = ImageOps.exif_transpose(im)
        longest = max(upright.size)
        size = (round(upright.width * MAX_EDGE / longest), round(upright.height * MAX_EDGE / longest))
        resized = upright.resize(size, Image.Resampling.LANCZOS)
        buffer = BytesIO()
        resized.save(buffer, format="JPEG", quality=JPEG_QUALITY)
        return buffer.getvalue()
