"""Photo checks: content (not the file name) must be an image, size, pixel count and number of photos capped,
every piece of metadata dropped.

What an upload may cost is bounded before a single pixel is decoded: the bytes are counted, the pixel count is
read from the image's header (``Image.open`` is lazy), and the number of photos per request and per case is
checked by the callers (``photo_count_error``) before any photo is opened. Decoding itself is made cheap: a JPEG
is decoded scaled down by libjpeg (``draft``: 1/2, 1/4 or 1/8 while still at least the stored size), other
formats are reduced by an integer factor (``reduce``, a box filter) before the final resampling.

Photos are re-encoded as a JPEG built from the pixels only (a new image the decoded one is pasted into), so
nothing of the upload but its picture is kept: no EXIF, no ICC profile, no XMP, no comment (JPEG COM, PNG
tEXt/zTXt/iTXt), no payload hidden after the image data. The GPS position in the EXIF is read first and
returned as a location hint; the EXIF orientation is applied to the pixels, as it is dropped with the rest.
"""
import io
import zlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
# Defaults of the settings read below (each can be set in the Django settings).
MAX_PHOTO_BYTES = 10 * 1024 * 1024
# 25 million pixels: the default output of phones (12–12.5 MP on nearly all of them, the binned output of their
# 48–200 MP sensors; 24 MP = 5712×4284 = 24.5 million on recent iPhones) passes; the opt-in full-resolution modes
# (48–200 MP) are refused with a message asking for a smaller photo. Decoding one costs at most about 0.1 s (JPEG,
# scaled down while decoded) to 0.3 s (PNG) of CPU and 100 MB of memory, times the photos of a request.
MAX_PHOTO_PIXELS = 25_000_000
MAX_PHOTOS_PER_REQUEST = 6
MAX_PHOTOS_PER_CASE = 30
# Modes Image.reduce handles at full speed; the others (alpha, palette, 1-bit, 16-bit) are converted to RGB first.
REDUCIBLE = frozenset({"L", "RGB", "RGBX", "CMYK", "YCbCr"})
# EXIF orientation -> the transposition that shows the picture upright (as ImageOps.exif_transpose does).
ORIENTATION = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
               5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
               8: Image.Transpose.ROTATE_90}


class PhotoError(ValueError):
    pass


def _limit(name, default):
    return int(getattr(settings, name, default))


def max_photos_per_request():
    return _limit("URBANGRID_MAX_PHOTOS_PER_REQUEST", MAX_PHOTOS_PER_REQUEST)


def max_photos_per_case():
    return _limit("URBANGRID_MAX_PHOTOS_PER_CASE", MAX_PHOTOS_PER_CASE)


def photo_count_error(new, existing=0, per_request=None):
    """The message refusing ``new`` photos in one request on top of a case's ``existing`` ones, or "" if they fit.

    Callers ask before any photo is opened, so a request with too many photos costs no image work."""
    most = min(per_request, max_photos_per_request()) if per_request else max_photos_per_request()
    if new > most:
        return _("一次最多上传 %(n)s 张照片（本次 %(got)s 张）") % {"n": most, "got": new}
    cap = max_photos_per_case()
    if new and existing + new > cap:
        return _("每个案件最多 %(n)s 张照片，已有 %(have)s 张，还可上传 %(left)s 张") % {
            "n": cap, "have": existing, "left": max(0, cap - existing)}
    return ""


def _gps_from_exif(exif):
    try:
        gps = exif.get_ifd(0x8825)
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


def _exif(img):
    try:
        return img.getexif()
    except Exception:  # broken EXIF is not a reason to refuse the photo
        return Image.Exif()


def _too_big(max_bytes):
    return PhotoError(_("照片不能超过 %(mb)s MB") % {"mb": max_bytes // (1024 * 1024)})


def _read(upload, max_bytes):
    """The upload's bytes, never more than ``max_bytes`` read (the declared size is checked first)."""
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise _too_big(max_bytes)
    if hasattr(upload, "seek"):
        upload.seek(0)
    raw = upload.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise _too_big(max_bytes)
    if not raw:
        raise PhotoError(_("照片文件为空"))
    return raw


def _too_many_pixels(max_pixels, width=None, height=None):
    if width is None:
        return PhotoError(_("图片像素过多（最多 %(max)s 万像素），请上传较小的照片") % {"max": max_pixels // 10_000})
    return PhotoError(_("图片像素过多（%(w)s×%(h)s，%(got)s 万像素，最多 %(max)s 万像素），请用标准分辨率拍摄或缩小后再上传")
                      % {"w": width, "h": height, "got": width * height // 10_000, "max": max_pixels // 10_000})


def _open(raw, max_pixels):
    """The image with only its header read: format and pixel count checked, the data's structure verified,
    no pixel decoded."""
    try:
        probe = Image.open(io.BytesIO(raw))  # lazy: reads the header only
        if probe.format not in ALLOWED_FORMATS:
            raise PhotoError(_("不支持的图片格式 %(f)s，请上传 JPEG、PNG、WebP 或 GIF") % {"f": probe.format})
        width, height = probe.size
        if width * height > max_pixels:
            raise _too_many_pixels(max_pixels, width, height)
        if width < 1 or height < 1:
            raise PhotoError(_("文件不是有效的图片"))
        probe.verify()  # checks the data (chunk checksums for PNG), not the name; decodes no pixel
        return Image.open(io.BytesIO(raw))  # verify() leaves its image unusable
    except PhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # a header claiming a gigantic picture
        raise _too_many_pixels(max_pixels) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise PhotoError(_("文件不是有效的图片")) from None


def _png_exif(raw):
    """The data of a PNG's eXIf chunk found anywhere in the file (after the pixel data too), without decoding."""
    at = raw.find(b"eXIf", 12)
    while at != -1:
        length = int.from_bytes(raw[at - 4:at], "big")
        data = raw[at + 4:at + 4 + length]
        crc = raw[at + 4 + length:at + 8 + length]
        if len(data) == length and len(crc) == 4 and zlib.crc32(raw[at:at + 4 + length]) == int.from_bytes(crc, "big"):
            return data
        at = raw.find(b"eXIf", at + 4)
    return None


def location_hint(upload):
    """The GPS position in a photo's EXIF ({"lon", "lat"} or None), read without decoding a pixel; None too for a
    photo ``clean_photo`` would refuse. The upload is left rewound."""
    try:
        try:
            raw = _read(upload, _limit("URBANGRID_MAX_PHOTO_BYTES", MAX_PHOTO_BYTES))
            img = _open(raw, _limit("URBANGRID_MAX_PHOTO_PIXELS", MAX_PHOTO_PIXELS))
        finally:
            if hasattr(upload, "seek"):
                upload.seek(0)
    except PhotoError:
        return None
    if img.format == "PNG" and "exif" not in img.info:
        # Pillow would decode the whole picture to reach an eXIf chunk after the pixel data.
        data = _png_exif(raw)
        if not data:
            return None
        exif = Image.Exif()
        try:
            exif.load(data)
        except Exception:
            return None
        return _gps_from_exif(exif)
    return _gps_from_exif(_exif(img))


def clean_photo(upload):
    """Validate an uploaded file; return (ContentFile of a JPEG, width, height, gps hint or None)."""
    max_bytes = _limit("URBANGRID_MAX_PHOTO_BYTES", MAX_PHOTO_BYTES)
    max_pixels = _limit("URBANGRID_MAX_PHOTO_PIXELS", MAX_PHOTO_PIXELS)
    max_side = _limit("URBANGRID_PHOTO_MAX_SIDE", 2048)
    img = _open(_read(upload, max_bytes), max_pixels)
    width, height = img.size
    scale = min(1.0, max_side / max(width, height))
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    try:
        if img.format == "JPEG" and scale < 1:
            img.draft("RGB", target)  # decoded at 1/2, 1/4 or 1/8 size, never below the target
        img.load()
        exif = _exif(img)  # after load: a PNG's eXIf chunk may follow its pixel data
        hint = _gps_from_exif(exif)
        orientation = exif.get(0x0112)
        if img.mode not in REDUCIBLE:
            img = img.convert("RGB")
        factor = min(img.width // target[0], img.height // target[1])
        if factor >= 2:
            img = img.reduce(factor)  # a box filter: cheap, and what is left for the resampling is small
        if img.mode != "RGB":
            img = img.convert("RGB")
        img.thumbnail((max_side, max_side))
        if orientation in ORIENTATION:
            img = img.transpose(ORIENTATION[orientation])
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        raise PhotoError(_("文件不是有效的图片")) from None
    # Pixels only: a new image carries no info (comment, EXIF, ICC, XMP, text chunks) for the encoder to copy.
    clean = Image.new("RGB", img.size)
    clean.paste(img)
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=85, optimize=True)
    return ContentFile(out.getvalue(), name="photo.jpg"), clean.width, clean.height, hint
