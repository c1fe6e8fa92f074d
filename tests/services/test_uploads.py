"""Photos and signatures from the worker's phone: only real pictures, size-limited, stripped of
where they were taken, stored under instance/ with paths relative to it."""
from __future__ import annotations

import base64
from io import BytesIO
from pathlib import Path

import pytest
from flask import current_app
from PIL import ExifTags, Image, ImageDraw, PngImagePlugin

from app.domain.errors import DomainError
from app.models.slips import SlipPhoto
from app.services import slips as svc
from app.services import uploads
from tests import factories


@pytest.fixture(autouse=True)
def _english(db):
    """Messages read in English here (outside a request the app speaks its default, Chinese)."""
    from flask_babel import force_locale
    with force_locale("en"):
        yield


# ---- building test pictures --------------------------------------------------------------


def jpeg_with_gps(size=(400, 300), orientation: int | None = None) -> bytes:
    """A JPEG as a phone writes it: camera make, GPS position, optionally a rotate tag."""
    image = Image.new("RGB", size, (200, 60, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCam"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (31.0, 14.0, 2.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (121.0, 28.0, 5.0)
    out = BytesIO()
    image.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    # the fixture itself must carry a position, or the test proves nothing
    assert Image.open(BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    return data


def png(size=(300, 120), ink=True, background=None, text_chunk=None) -> bytes:
    image = Image.new("RGBA", size, background or (0, 0, 0, 0))
    if ink:
        ImageDraw.Draw(image).line([(20, 90), (80, 20), (150, 100), (260, 30)], fill="black",
                                   width=4)
    out = BytesIO()
    info = None
    if text_chunk:
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", text_chunk)
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def data_url(raw: bytes, mime="image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(raw).decode()


def stored(relative: str) -> Path:
    return Path(current_app.instance_path) / relative


@pytest.fixture
def on_site(db):
    """A slip the worker has checked in at."""
    worker = factories.user("worker")
    slip = factories.slip()
    svc.dispatch(slip, factories.user("supervisor"), worker.id)
    svc.check_in(slip, worker)
    db.session.commit()
    return slip, worker


# ---- photos ------------------------------------------------------------------------------

def test_a_photo_loses_its_gps_position_and_camera_data(on_site):
    slip, worker = on_site
    photo = uploads.save_photo(slip, "before", jpeg_with_gps(), worker)

    kept = Image.open(stored(photo.file))
    assert kept.format == "JPEG"
    exif = kept.getexif()
    assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
    assert len(exif) == 0
    assert "exif" not in kept.info and "icc_profile" not in kept.info
    assert b"PhoneCam" not in stored(photo.file).read_bytes()


def test_a_photo_is_stored_under_instance_photos_with_a_relative_path(on_site, db):
    slip, worker = on_site
    photo = uploads.save_photo(slip, "damage", jpeg_with_gps(), worker)
    db.session.commit()

    assert photo.file.startswith(f"photos/{slip.number}/damage-")
    assert not Path(photo.file).is_absolute()
    assert stored(photo.file).is_file()
    row = db.session.get(SlipPhoto, photo.id)
    assert (row.kind, row.content_type, row.uploaded_by_id) == ("damage", "image/jpeg", worker.id)
    assert row.size == stored(photo.file).stat().st_size


def test_a_large_photo_is_scaled_down_to_1600_pixels(on_site):
    slip, worker = on_site
    out = BytesIO()
    Image.new("RGB", (4000, 3000), "white").save(out, "JPEG")
    photo = uploads.save_photo(slip, "after", out.getvalue(), worker)
    assert Image.open(stored(photo.file)).size == (1600, 1200)


def test_a_sideways_phone_photo_is_stored_upright(on_site):
    slip, worker = on_site
    photo = uploads.save_photo(slip, "before", jpeg_with_gps((400, 200), orientation=6), worker)
    assert Image.open(stored(photo.file)).size == (200, 400)


def test_a_png_with_transparency_becomes_a_jpeg_on_white(on_site):
    slip, worker = on_site
    photo = uploads.save_photo(slip, "after", png(), worker)
    kept = Image.open(stored(photo.file))
    assert kept.format == "JPEG" and kept.getpixel((5, 5))[0] > 240


@pytest.mark.parametrize("data", [
    b"%PDF-1.4 not a picture at all",
    b"GIF89a" + b"\x00" * 20,                 # the magic number of a GIF, nothing behind it
    jpeg_with_gps()[:400],                    # a photo cut off mid-way
    b"<svg xmlns='http://www.w3.org/2000/svg'/>",
], ids=["pdf", "fake-gif", "truncated-jpeg", "svg"])
def test_anything_but_a_picture_is_refused(on_site, db, data):
    slip, worker = on_site
    with pytest.raises(DomainError) as err:
        uploads.save_photo(slip, "before", data, worker)
    assert err.value.field == "photo"
    assert "not a photo" in str(err.value.message)
    assert db.session.query(SlipPhoto).count() == 0


def test_a_photo_over_the_size_limit_is_refused(on_site, monkeypatch):
    slip, worker = on_site
    data = jpeg_with_gps()
    monkeypatch.setitem(current_app.config, "PHOTO_MAX_BYTES", len(data) - 1)
    with pytest.raises(DomainError) as err:
        uploads.save_photo(slip, "before", data, worker)
    assert err.value.field == "photo" and "larger than" in str(err.value.message)


def test_a_decompression_bomb_is_refused(on_site):
    slip, worker = on_site
    out = BytesIO()
    Image.new("1", (12000, 12000)).save(out, "PNG")  # tiny file, 144 million pixels
    assert len(out.getvalue()) < 1_000_000
    with pytest.raises(DomainError) as err:
        uploads.save_photo(slip, "before", out.getvalue(), worker)
    assert err.value.field == "photo"


def test_a_small_file_of_too_many_pixels_is_refused_before_it_is_decoded(on_site, db):
    """A 190 KB PNG can hold 59 megapixels (~180 MB decoded): refused from its header."""
    slip, worker = on_site
    out = BytesIO()
    Image.new("L", (8000, 3800), 200).save(out, "PNG")  # 30.4 MP
    assert len(out.getvalue()) < 200_000
    with pytest.raises(DomainError) as err:
        uploads.save_photo(slip, "before", out.getvalue(), worker)
    assert err.value.field == "photo" and "at most 24 megapixels" in str(err.value.message)
    assert db.session.query(SlipPhoto).count() == 0


def test_a_phones_48_megapixel_jpeg_is_kept_decoded_at_a_fraction(on_site):
    slip, worker = on_site
    out = BytesIO()
    Image.new("L", (8000, 6000), 120).save(out, "JPEG", quality=60)
    photo = uploads.save_photo(slip, "after", out.getvalue(), worker)
    assert max(Image.open(stored(photo.file)).size) == 1600


def test_a_truncated_png_is_refused(on_site):
    slip, worker = on_site
    whole = png(size=(400, 300))
    with pytest.raises(DomainError) as err:
        uploads.save_photo(slip, "before", whole[: len(whole) - 30], worker)
    assert "not a photo" in str(err.value.message)


def test_a_job_keeps_at_most_twelve_photos(on_site, db):
    slip, worker = on_site
    picture = jpeg_with_gps(size=(40, 30))
    for _ in range(uploads.PHOTO_MAX_PER_SLIP):
        uploads.save_photo(slip, "before", picture, worker)
    with pytest.raises(DomainError) as err:
        uploads.save_photo(slip, "damage", picture, worker)
    assert err.value.field == "photo" and "already has 12 photos" in str(err.value.message)
    assert db.session.query(SlipPhoto).count() == 12


def test_photos_are_taken_at_the_job_only(db):
    worker = factories.user("worker")
    slip = factories.slip()
    svc.dispatch(slip, factories.user("supervisor"), worker.id)
    with pytest.raises(DomainError, match="after checking in"):
        uploads.save_photo(slip, "before", jpeg_with_gps(), worker)


def test_a_photo_needs_a_known_kind(on_site):
    slip, worker = on_site
    with pytest.raises(DomainError) as err:
        uploads.save_photo(slip, "selfie", jpeg_with_gps(), worker)
    assert err.value.field == "kind"


# ---- the signature -----------------------------------------------------------------------

def test_a_signature_is_stored_as_a_plain_png(on_site):
    slip, _worker = on_site
    path = uploads.save_signature(slip, data_url(png(text_chunk="secret note")), "k-1234567890")
    assert path == f"signatures/{slip.number}-k-1234567890.png"
    kept = Image.open(stored(path))
    assert kept.format == "PNG"
    assert "Comment" not in kept.info
    assert kept.getpixel((2, 2)) == 255  # transparent canvas became white paper


@pytest.mark.parametrize("key", ["same-key-123", "Kx_9-q_Z2mWv8Ab_c3Dd4A"])  # OnceForm's keys
def test_a_resent_signature_rewrites_the_same_file(on_site, key):
    slip, _worker = on_site
    first = uploads.save_signature(slip, data_url(png()), key)
    again = uploads.save_signature(slip, data_url(png()), key)
    assert first == again == f"signatures/{slip.number}-{key}.png"
    assert len(list(stored(first).parent.glob(f"{slip.number}-{key}*"))) == 1


@pytest.mark.parametrize("value, message", [
    ("", "must sign"),
    (data_url(png(ink=False)), "empty"),                                     # untouched pad
    (data_url(png(ink=False, background=(255, 255, 255, 255))), "empty"),    # white, no ink
    ("data:image/png;base64,!!!not-base64!!!", "could not be read"),
    (data_url(b"not a png at all"), "could not be read"),
    (data_url(jpeg_with_gps(), "image/png"), "could not be read"),           # a JPEG named PNG
    (data_url(jpeg_with_gps(), "image/jpeg"), "could not be read"),
    ("javascript:alert(1)", "could not be read"),
    (data_url(png(size=(3000, 100))), "could not be read"),                  # absurd size
], ids=["missing", "blank", "white", "bad-base64", "junk", "jpeg-as-png", "jpeg", "script",
        "too-wide"])
def test_a_bad_signature_is_refused(on_site, value, message):
    slip, _worker = on_site
    with pytest.raises(DomainError) as err:
        uploads.save_signature(slip, value, "key-12345678")
    assert err.value.field == "signature"
    assert message in str(err.value.message)
    assert not list((Path(current_app.instance_path) / "signatures").glob(
        f"{slip.number}-key-12345678*"))


def test_an_oversized_signature_is_refused(on_site, monkeypatch):
    slip, _worker = on_site
    monkeypatch.setattr(uploads, "SIGNATURE_MAX_BYTES", 200)
    with pytest.raises(DomainError, match="could not be read"):
        uploads.save_signature(slip, data_url(png()), "key-12345678")


def test_a_dot_is_not_a_signature(on_site):
    slip, _worker = on_site
    image = Image.new("RGBA", (300, 120), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((100, 50, 104, 54), fill="black")
    out = BytesIO()
    image.save(out, "PNG")
    with pytest.raises(DomainError, match="empty"):
        uploads.save_signature(slip, data_url(out.getvalue()), None)


def test_a_request_key_that_is_not_a_plain_token_does_not_name_the_file(on_site):
    slip, _worker = on_site
    path = uploads.save_signature(slip, data_url(png()), "../../etc/passwd")
    assert path.startswith(f"signatures/{slip.number}-") and ".." not in path
    assert stored(path).is_file()


def test_discard_removes_only_files_under_the_instance_folder(on_site, tmp_path):
    slip, _worker = on_site
    path = uploads.save_signature(slip, data_url(png()), "discard-me-1")
    uploads.discard(path, keep=path)
    assert stored(path).is_file()          # the slip holds it: kept
    uploads.discard(path)
    assert not stored(path).exists()
    outside = tmp_path / "keep.txt"
    outside.write_text("x")
    uploads.discard(str(outside))
    uploads.discard("../" + outside.name)
    assert outside.exists()
