"""Photo checks: content (not the file name) must be an image, size and dimensions capped, EXIF dropped.

Photos are re-encoded as JPEG, which drops EXIF and any payload hidden after the image data; the GPS
position in the EXIF is read first and returned as a location hint.
"""
import io

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


class PhotoError(ValueError):
    pass


def _limit(name, default):
    return getattr(settings, name, default)


def _gps_hint(img):
    try:
        gps = img.getexif().get_ifd(0x8825)
    except Exception:  # broken EXIF is not a reason to refuse the photo
        return None
    if not gps or 2 not in gps or 4 not in gps:
        return None

    def deg(v):
        d, m, s = (float(x) for x in v)
        return d + m / 60 + s / 3600

    try:
        lat, lon = deg(gps[2]), deg(gps[4])
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if gps.get(1) == "S":
        lat = -lat
    if gps.get(3) == "W":
        lon = -lon
    return {"lon": lon, "lat": lat}


def clean_photo(upload):
    """Validate an uploaded file; return (ContentFile of a JPEG, width, height, gps hint or None)."""
    max_bytes = _limit("URBANGRID_MAX_PHOTO_BYTES", 10 * 1024 * 1024)
    max_pixels = _limit("URBANGRID_MAX_PHOTO_PIXELS", 40_000_000)
    max_side = _limit("URBANGRID_PHOTO_MAX_SIDE", 2048)
    size = getattr(upload, "size", None)
    if size is None or size > max_bytes:
        raise PhotoError(_("照片不能超过 %(mb)s MB") % {"mb": max_bytes // (1024 * 1024)})
    if size == 0:
        raise PhotoError(_("照片文件为空"))
    raw = upload.read()
    try:
        Image.MAX_IMAGE_PIXELS = max_pixels
        probe = Image.open(io.BytesIO(raw))
        probe.verify()  # checks the data, not the name
        img = Image.open(io.BytesIO(raw))
        if img.format not in ALLOWED_FORMATS:
            raise PhotoError(_("不支持的图片格式 %(f)s，请上传 JPEG、PNG、WebP 或 GIF") % {"f": img.format})
        if img.width * img.height > max_pixels:
            raise PhotoError(_("图片尺寸过大"))
        hint = _gps_hint(img)
        img = img.convert("RGB")
        img.thumbnail((max_side, max_side))
    except PhotoError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise PhotoError(_("文件不是有效的图片")) from None
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, optimize=True)
    return ContentFile(out.getvalue(), name="photo.jpg"), img.width, img.height, hint
