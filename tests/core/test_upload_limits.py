"""Uploads cannot burn the CPU and photos keep nothing but their pixels (security issue 14, items 3 and 10).

Every door that takes photos bounds what it decodes before decoding: the bytes, the pixel count read from the
header, the number of photos per request and per case. Anonymous submissions on the public report page count
against the address's limit whatever becomes of them. The stored JPEG carries no metadata at all.
"""
import io
import itertools
import struct
import zlib

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image, PngImagePlugin

from urbangrid.cases.models import Case, CasePhoto
from urbangrid.cases.photos import PhotoError, clean_photo, location_hint
from urbangrid.catalog.models import CatalogClass
from ug_testing import assert_matches_openapi, jpeg

pytestmark = pytest.mark.django_db
POINT = {"lon": "117.2352", "lat": "31.8785"}  # WG01
GPS = {1: "N", 2: (31.0, 52.0, 42.6), 3: "E", 4: (117.0, 14.0, 6.72)}  # the same point in EXIF form
MARKERS = (b"PNG-TEXT-MARKER", b"PNG-ITXT-MARKER", b"PNG-ZTXT-MARKER", b"JPEG-COM-MARKER", b"EXIF-DESC-MARKER",
           b"EXIF-ARTIST-MARKER", b"XMP-MARKER", b"ICC-MARKER")
_addresses = itertools.count(1)


def anon():
    """A citizen's browser with an address of its own: the rate-limit counters outlive a test's rolled-back rows."""
    n = next(_addresses)
    return Client(REMOTE_ADDR=f"10.14.{n // 250}.{n % 250 + 1}")


def staff(username):
    c = Client()
    c.force_login(get_user_model().objects.get(username=username))
    return c


def named(raw, name):
    f = io.BytesIO(raw)
    f.name = name
    return f


@pytest.fixture(scope="module")
def big_png():
    """40 megapixels of one colour: about 126 KB as a PNG, 120 MB once decoded."""
    buf = io.BytesIO()
    Image.new("RGB", (8000, 5000), (90, 120, 40)).save(buf, "PNG")
    assert len(buf.getvalue()) < 200_000
    return buf.getvalue()


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width=30000, height=30000):
    """A PNG header announcing 900 megapixels over a few bytes of data (a decompression bomb)."""
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b""))


def png_with_text():
    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "PNG-TEXT-MARKER")
    info.add_itxt("Description", "PNG-ITXT-MARKER", lang="zh", tkey="说明")
    info.add_text("Author", "PNG-ZTXT-MARKER", zip=True)
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 30, 30)).save(buf, "PNG", pnginfo=info)
    raw = buf.getvalue()
    assert b"PNG-TEXT-MARKER" in raw and b"PNG-ITXT-MARKER" in raw
    return raw


def jpeg_with_metadata(orientation=1, size=(400, 200)):
    exif = Image.Exif()
    exif[0x010E] = "EXIF-DESC-MARKER"  # ImageDescription
    exif[0x013B] = "EXIF-ARTIST-MARKER"  # Artist
    exif[0x0112] = orientation
    exif[0x8825] = GPS
    buf = io.BytesIO()
    Image.new("RGB", size, (30, 30, 200)).save(buf, "JPEG", exif=exif.tobytes(), comment=b"JPEG-COM-MARKER",
                                               icc_profile=b"ICC-MARKER" * 20, xmp=b"<x:xmpmeta>XMP-MARKER</x:xmpmeta>")
    raw = buf.getvalue()
    assert all(m in raw for m in (b"JPEG-COM-MARKER", b"EXIF-DESC-MARKER", b"Exif\0\0", b"ICC-MARKER", b"XMP-MARKER"))
    return raw


def jpeg_segments(raw):
    """The markers of a JPEG's segments up to its first scan."""
    assert raw[:2] == b"\xff\xd8"
    pos, found = 2, []
    while pos < len(raw):
        assert raw[pos] == 0xFF
        marker = raw[pos + 1]
        found.append(marker)
        if marker == 0xDA:
            break
        pos += 2 + int.from_bytes(raw[pos + 2:pos + 4], "big")
    return found


def assert_pixels_only(raw):
    for marker in MARKERS:
        assert marker not in raw, marker
    for text in (b"Exif\0\0", b"http://ns.adobe.com/xap", b"ICC_PROFILE"):
        assert text not in raw, text
    # SOI, the JFIF header Pillow always writes, quantisation and Huffman tables, the frame, the scan: no APP1
    # (EXIF, XMP), APP2 (ICC), COM or any other application segment.
    assert set(jpeg_segments(raw)) <= {0xD8, 0xE0, 0xDB, 0xC0, 0xC2, 0xC4, 0xDA}, jpeg_segments(raw)
    app0 = raw.index(b"\xff\xe0")
    assert raw[app0 + 4:app0 + 9] == b"JFIF\0" and int.from_bytes(raw[app0 + 2:app0 + 4], "big") == 16  # no thumbnail
    img = Image.open(io.BytesIO(raw))
    assert img.format == "JPEG"
    assert not set(img.info) & {"comment", "exif", "icc_profile", "xmp"}, img.info
    assert not img.getexif()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root):
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _class(code="06010", version="gbt47678.5-2026"):  # 暴露垃圾 in the demo's current catalogue
    return CatalogClass.objects.get(version__code=version, code=code)


def public_report(client, photos=(), point=True, **extra):
    data = {"catalog_class": _class().pk, "description": "路边垃圾堆了三天", "photos": list(photos),
            **(POINT if point else {}), **extra}
    return client.post("/report/", data)


def api_report(client, photos=(), **extra):
    data = {"catalog_version": "local-demo", "class_code": "0401", "lon": POINT["lon"], "lat": POINT["lat"],
            "description": "路面出现塌陷，约一平方米", "source": "inspector", "photos": list(photos), **extra}
    return client.post("/api/v1/cases", data)


# --- pixels counted from the header, before decoding ------------------------------------------------------

def test_public_page_refuses_a_40_megapixel_png(demo_city, media, big_png):
    r = public_report(anon(), [named(big_png, "big.png")])
    html = r.content.decode()
    assert r.status_code == 400
    assert "图片像素过多" in html and "8000×5000" in html and "4000 万像素" in html and "最多 2500 万像素" in html
    assert "路边垃圾堆了三天" in html  # the form comes back with what was typed
    assert not Case.objects.exists() and stored_files(media) == []


def test_api_refuses_large_pngs_and_decompression_bombs(demo_city, media, big_png, openapi_doc):
    inspector = staff("inspector")
    for raw, expected in ((big_png, "4000 万像素"), (bomb_png(), "最多 2500 万像素")):
        r = api_report(inspector, [named(raw, "big.png")])
        assert r.status_code == 422, r.content
        body = r.json()
        assert_matches_openapi(openapi_doc, "/api/v1/cases", "post", 422, body)
        assert body["code"] == "invalid_photo" and "图片像素过多" in body["fields"]["photos"]
        assert expected in body["fields"]["photos"]
    assert not Case.objects.exists() and stored_files(media) == []


def test_pixel_and_byte_limits_are_settings(settings):
    settings.URBANGRID_MAX_PHOTO_PIXELS = 64 * 48 - 1
    with pytest.raises(PhotoError, match="图片像素过多"):
        clean_photo(SimpleUploadedFile("p.jpg", jpeg().read()))
    settings.URBANGRID_MAX_PHOTO_PIXELS = 64 * 48
    assert clean_photo(SimpleUploadedFile("p.jpg", jpeg().read()))[1:3] == (64, 48)
    settings.URBANGRID_MAX_PHOTO_BYTES = 100
    with pytest.raises(PhotoError, match="照片不能超过"):
        clean_photo(SimpleUploadedFile("p.jpg", jpeg().read()))
    # A bomb is refused by its header whatever the settings say about Pillow's own limit.
    settings.URBANGRID_MAX_PHOTO_BYTES = 10 * 1024 * 1024
    with pytest.raises(PhotoError, match="图片像素过多"):
        clean_photo(SimpleUploadedFile("b.png", bomb_png()))
    assert location_hint(SimpleUploadedFile("b.png", bomb_png())) is None


def test_large_photos_are_scaled_down(settings):
    buf = io.BytesIO()
    Image.new("RGB", (6000, 4000), (10, 200, 30)).save(buf, "JPEG")
    content, width, height, _hint = clean_photo(SimpleUploadedFile("p.jpg", buf.getvalue()))
    assert (width, height) == (2048, 1365) and Image.open(content).size == (2048, 1365)
    buf = io.BytesIO()
    Image.new("P", (4100, 2050), 3).save(buf, "GIF")
    assert clean_photo(SimpleUploadedFile("p.gif", buf.getvalue()))[1:3] == (2048, 1024)


# --- the number of photos, per request and per case, at every door --------------------------------------

def test_api_refuses_a_seventh_photo(demo_city, media, openapi_doc):
    inspector = staff("inspector")
    r = api_report(inspector, [jpeg() for _ in range(7)])
    assert r.status_code == 422, r.content
    body = r.json()
    assert_matches_openapi(openapi_doc, "/api/v1/cases", "post", 422, body)
    assert body["fields"] == {"photos": "一次最多上传 6 张照片（本次 7 张）"}
    # Before and after photos of one request count together.
    r = api_report(inspector, [jpeg() for _ in range(4)], self_handled="true", after_photos=[jpeg() for _ in range(3)])
    assert r.status_code == 422 and r.json()["fields"] == {"after_photos": "一次最多上传 6 张照片（本次 7 张）"}
    assert not Case.objects.exists() and stored_files(media) == []
    r = api_report(inspector, [jpeg() for _ in range(6)])
    assert r.status_code == 201, r.content
    assert CasePhoto.objects.filter(case__number=r.json()["number"]).count() == 6


def test_public_page_takes_at_most_three_photos(demo_city, media):
    r = public_report(anon(), [jpeg() for _ in range(4)])
    assert r.status_code == 400 and "一次最多上传 3 张照片（本次 4 张）" in r.content.decode()
    assert not Case.objects.exists() and stored_files(media) == []
    r = public_report(anon(), [jpeg() for _ in range(3)])
    assert r.status_code == 302
    assert Case.objects.get().photos.count() == 3


def test_photos_per_case_and_per_request_on_transitions(demo_city, settings, media):
    settings.URBANGRID_MAX_PHOTOS_PER_CASE = 4
    assert public_report(anon(), [jpeg(), jpeg()]).status_code == 302
    case = Case.objects.get()
    assert staff("intake_operator").post(f"/api/v1/cases/{case.number}/actions/send_verify", {}).status_code == 200
    case.refresh_from_db()
    inspector = staff("inspector")
    url = f"/api/v1/cases/{case.number}/actions/verify"
    r = inspector.post(url, {"opinion": "属实", "photos": [jpeg() for _ in range(7)]})
    assert r.status_code == 422 and r.json()["fields"] == {"photos": "一次最多上传 6 张照片（本次 7 张）"}
    r = inspector.post(url, {"opinion": "属实", "photos": [jpeg() for _ in range(3)]})
    assert r.status_code == 422 and r.json()["code"] == "too_many_photos"
    assert r.json()["fields"] == {"photos": "每个案件最多 4 张照片，已有 2 张，还可上传 2 张"}
    # The case page's form says the same, with nothing written.
    page = inspector.post(reverse("work:act", args=[case.number, "verify"]),
                          {"opinion": "属实", "photos": [jpeg() for _ in range(3)]})
    assert page.status_code == 422 and "每个案件最多 4 张照片，已有 2 张，还可上传 2 张" in page.content.decode()
    unchanged = Case.objects.get(pk=case.pk)
    assert (unchanged.state, unchanged.version) == (case.state, case.version)
    assert CasePhoto.objects.filter(case=case).count() == 2 and len(stored_files(media)) == 2
    r = inspector.post(url, {"opinion": "属实", "photos": [jpeg(), jpeg()]})
    assert r.status_code == 200, r.content
    assert CasePhoto.objects.filter(case=case).count() == 4


def test_open311_media_are_counted(demo_city, settings, media):
    from urbangrid.public.open311 import keys

    settings.URBANGRID_OPEN311_POSTS_PER_HOUR = 10**9
    _key, raw = keys.issue("测试系统", contact="ops@example.invalid")
    data = {"api_key": raw, "service_code": "local-demo-2026:event:21001", "lat": POINT["lat"], "long": POINT["lon"],
            "description": "路面塌陷"}
    r = Client().post("/open311/v2/requests.json", {**data, "media": [jpeg() for _ in range(7)]})
    assert r.status_code == 400 and "一次最多上传 6 张照片（本次 7 张）" in r.content.decode()
    r = Client().post("/open311/v2/requests.json", {**data, "media": [jpeg()]})
    assert r.status_code in (200, 201), r.content
    assert len(stored_files(media)) == 1 and Case.objects.get().photos.count() == 1


# --- anonymous submissions count against the limit whatever their outcome ---------------------------------

def test_refused_public_submissions_count_against_the_limit(demo_city, settings, media, big_png):
    settings.URBANGRID_PUBLIC_POSTS_PER_HOUR = 4
    citizen = anon()
    not_an_image = public_report(citizen, [named(b"GIF89a<script>alert(1)</script>", "x.gif")])
    assert not_an_image.status_code == 400 and "不是有效的图片" in not_an_image.content.decode()
    refused_photo = public_report(citizen, [named(big_png, "big.png")])
    assert refused_photo.status_code == 400 and "图片像素过多" in refused_photo.content.decode()
    invalid_form = public_report(citizen, [named(big_png, "big.png")], description="")
    assert invalid_form.status_code == 400 and 'id="report-form"' in invalid_form.content.decode()
    too_many = public_report(citizen, [jpeg() for _ in range(4)])
    assert too_many.status_code == 400 and "一次最多上传 3 张照片" in too_many.content.decode()
    # The counter advanced four times: the fifth submission, a good one, is refused before any work.
    limited = public_report(citizen, [jpeg()])
    assert limited.status_code == 429 and "提交过于频繁" in limited.content.decode()
    assert public_report(citizen, [named(big_png, "big.png")]).status_code == 429
    assert not Case.objects.exists() and stored_files(media) == []
    # Another address has its own count.
    assert public_report(anon(), [jpeg()]).status_code == 302


# --- nothing but the pixels is kept -------------------------------------------------------------------------

def test_reencoded_photos_carry_no_metadata():
    raw = jpeg_with_metadata()
    assert location_hint(SimpleUploadedFile("m.jpg", raw)) == pytest.approx({"lon": 117.2352, "lat": 31.8785})
    content, width, height, hint = clean_photo(SimpleUploadedFile("m.jpg", raw))
    assert hint == pytest.approx({"lon": 117.2352, "lat": 31.8785}) and (width, height) == (400, 200)
    assert_pixels_only(content.read())
    content, width, height, hint = clean_photo(SimpleUploadedFile("t.png", png_with_text()))
    assert hint is None and (width, height) == (320, 240)
    assert_pixels_only(content.read())


def test_orientation_is_applied_to_the_pixels():
    # Dropped with the rest of the EXIF, the orientation would leave a phone's portrait photo lying on its side.
    content, width, height, _hint = clean_photo(SimpleUploadedFile("m.jpg", jpeg_with_metadata(orientation=6)))
    assert (width, height) == (200, 400) and Image.open(content).size == (200, 400)


def test_stored_photos_carry_no_metadata(demo_city, media):
    # A citizen's photo, placed by its GPS position (no point picked on the map): the position is read first.
    citizen = anon()
    r = public_report(citizen, [named(jpeg_with_metadata(), "m.jpg")], point=False)
    assert r.status_code == 302, r.content.decode()
    case = Case.objects.get()
    assert (case.lon, case.lat) == pytest.approx((117.2352, 31.8785))
    photo = case.photos.get()
    served = citizen.get(f"/track/{case.tracking_code}/photos/{photo.pk}")
    assert served.status_code == 200
    assert_pixels_only(b"".join(served.streaming_content))
    # An inspector's PNG with text chunks, through the API.
    inspector = staff("inspector")
    r = api_report(inspector, [named(png_with_text(), "t.png")])
    assert r.status_code == 201, r.content
    photo = CasePhoto.objects.get(case__number=r.json()["number"])
    served = inspector.get(reverse("cases:photo", args=[photo.pk]))
    assert served.status_code == 200
    assert_pixels_only(b"".join(served.streaming_content))
    for path in stored_files(media):
        assert_pixels_only(path.read_bytes())
