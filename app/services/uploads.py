"""Files a worker brings back from the job: photos and the resident's signature.

Both are checked by decoding them with Pillow (never by name or content type), re-encoded
so nothing but pixels is kept (EXIF, GPS and other location data are dropped), and stored
under the app's instance folder; the database keeps the path relative to that folder.
"""
from __future__ import annotations

import base64
import binascii
import re
import uuid
import warnings
from io import BytesIO
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select

from app.domain.errors import DomainError
from app.domain.slip_states import State
from app.extensions import db
from app.models.slips import PhotoKind, Slip, SlipPhoto
from app.models.users import User
from app.services import live
from app.services.audit import record

PHOTO_KINDS = tuple(PhotoKind)
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "MPO"}
PHOTO_MAX_SIDE = 1600            # pixels, the longer side once stored
# Pixels decoded at most (24 MP, ~72 MB in RGB), checked from the file's header before any
# decoding. A JPEG is decoded at 1/2, 1/4 or 1/8 of its size when that is still larger than
# what is kept, so a phone's 48 MP photo fits; a 59 MP PNG of 190 KB does not.
PHOTO_MAX_PIXELS = 24_000_000
PHOTO_MAX_PER_SLIP = 12          # before, after and damage photos of one job
PHOTO_STATES = frozenset({State.ON_SITE, State.AWAITING_PRICE, State.REFUSED, State.IN_PROGRESS,
                          State.PAUSED, State.COMPLETED})

SIGNATURE_MAX_BYTES = 512 * 1024
SIGNATURE_MAX_SIDE = 2400
SIGNATURE_MIN_INK = 60           # dark pixels: fewer is a blank pad or a stray tap
_DATA_URL = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=\s]+)")
_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")  # a request key (OnceForm: letters, digits, - and _)


def _store(relative: Path, data: bytes) -> str:
    path = Path(current_app.instance_path) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return relative.as_posix()


def _open_image(data: bytes, field: str, message) -> Image.Image:
    """Decode `data` as an image, or raise DomainError(message) on `field`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(BytesIO(data))
            probe.verify()  # a truncated or forged file fails here
            image = Image.open(BytesIO(data))
            if image.format in ("JPEG", "MPO"):
                image.draft("RGB", (PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            if image.width * image.height > PHOTO_MAX_PIXELS:
                raise DomainError(_l("The picture has too many pixels (at most %(mp)s "
                                     "megapixels). Take it again at a lower resolution.",
                                     mp=PHOTO_MAX_PIXELS // 1_000_000), field)
            image.load()
    except DomainError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning, EOFError):
        raise DomainError(message, field) from None
    return image


# ---- photos ------------------------------------------------------------------------------

def clean_photo(data: bytes) -> bytes:
    """The photo as a plain JPEG: upright, at most 1600 px, no metadata. Raises DomainError."""
    limit = current_app.config["PHOTO_MAX_BYTES"]
    if not data:
        raise DomainError(_l("Choose a photo."), "photo")
    if len(data) > limit:
        raise DomainError(_l("The photo is larger than %(mb)s MB. Take it again at a lower "
                             "size.", mb=f"{limit / 1048576:g}"), "photo")
    image = _open_image(data, "photo", _l("This file is not a photo. Choose a picture."))
    if image.format not in PHOTO_FORMATS:
        raise DomainError(_l("This file is not a photo. Choose a picture."), "photo")
    try:
        image = ImageOps.exif_transpose(image)  # phones store "rotate me" in EXIF
    except (ValueError, TypeError, KeyError, OSError, SyntaxError):
        pass  # a broken orientation tag: keep the picture as it is
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    if image.mode != "RGB":
        try:
            rgba = image.convert("RGBA")
        except (ValueError, OSError):
            raise DomainError(_l("This file is not a photo. Choose a picture."), "photo") from None
        background = Image.new("RGB", image.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    # A new image holding only the pixels: no EXIF, GPS, XMP, ICC or comments survive.
    bare = Image.new("RGB", image.size)
    bare.paste(image)
    out = BytesIO()
    bare.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def save_photo(slip: Slip, kind: str, data: bytes, user: User) -> SlipPhoto:
    """Keep a before/after/damage photo of a job the worker is at. Raises DomainError.

    Stored as instance/photos/<slip number>/<kind>-<random>.jpg, cleaned by clean_photo().
    """
    if kind not in PHOTO_KINDS:
        raise DomainError(_l("Choose what the photo shows."), "kind")
    if slip.state not in PHOTO_STATES:
        raise DomainError(_l("Photos are taken at the job, after checking in."), "photo")
    taken = db.session.scalar(select(func.count()).select_from(SlipPhoto)
                              .where(SlipPhoto.slip_id == slip.id))
    if taken >= PHOTO_MAX_PER_SLIP:
        raise DomainError(_l("This job already has %(n)s photos, the most one job keeps.",
                             n=PHOTO_MAX_PER_SLIP), "photo")
    jpeg = clean_photo(data)
    name = f"{kind}-{uuid.uuid4().hex[:16]}.jpg"
    relative = _store(Path("photos") / slip.number / name, jpeg)
    photo = SlipPhoto(slip=slip, kind=kind, file=relative, content_type="image/jpeg",
                      size=len(jpeg), uploaded_by_id=user.id)
    db.session.add(photo)
    db.session.flush()
    record("slip.photo", "slip", slip.id, slip.number, after={"kind": kind, "file": relative})
    live.changed()
    return photo


# ---- the resident's signature ------------------------------------------------------------

def clean_signature(data_url: str) -> bytes:
    """A signature drawn on the phone (a PNG data URL) as a plain PNG. Raises DomainError.

    Refused: no signature, anything but a PNG, a file over 512 KB, a blank pad.
    """
    data_url = (data_url or "").strip()
    if not data_url:
        raise DomainError(_l("The resident must sign on the screen."), "signature")
    match = _DATA_URL.fullmatch(data_url)
    if match is None or len(data_url) > SIGNATURE_MAX_BYTES * 4 // 3 + 64:
        raise DomainError(_l("The signature could not be read. Clear it and sign again."),
                          "signature")
    try:
        raw = base64.b64decode("".join(match.group(1).split()), validate=True)
    except (binascii.Error, ValueError):
        raise DomainError(_l("The signature could not be read. Clear it and sign again."),
                          "signature") from None
    if len(raw) > SIGNATURE_MAX_BYTES:
        raise DomainError(_l("The signature could not be read. Clear it and sign again."),
                          "signature")
    image = _open_image(raw, "signature",
                        _l("The signature could not be read. Clear it and sign again."))
    if image.format != "PNG" or max(image.size) > SIGNATURE_MAX_SIDE:
        raise DomainError(_l("The signature could not be read. Clear it and sign again."),
                          "signature")
    # Ink on white: transparent pixels count as paper.
    rgba = image.convert("RGBA")
    paper = Image.new("RGBA", rgba.size, "white")
    flat = Image.alpha_composite(paper, rgba).convert("L")
    ink = flat.point(lambda v: 255 if v < 160 else 0)
    box = ink.getbbox()
    inked = ink.histogram()[255]
    if box is None or inked < SIGNATURE_MIN_INK or max(box[2] - box[0], box[3] - box[1]) < 20:
        raise DomainError(_l("The signature is empty. Ask the resident to sign on the screen."),
                          "signature")
    out = BytesIO()
    flat.save(out, "PNG", optimize=True)
    return out.getvalue()


def save_signature(slip: Slip, data_url: str, request_key: str | None = None) -> str:
    """Store the resident's signature; returns its path relative to the instance folder.

    Named after the phone's request key when there is one, so a resent tap rewrites the same
    file instead of leaving a second one. Raises DomainError on the `signature` field.
    """
    png = clean_signature(data_url)
    tag = request_key if request_key and _KEY.fullmatch(request_key) else uuid.uuid4().hex
    return _store(Path("signatures") / f"{slip.number}-{tag}.png", png)


def discard(relative: str, *, keep: str | None = None) -> None:
    """Remove a stored file the failed request wrote (never `keep`, the one the slip holds)."""
    if not relative or relative == keep:
        return
    root = Path(current_app.instance_path).resolve()
    path = (root / relative).resolve()
    if path.is_relative_to(root) and path.is_file():
        path.unlink()


def photo_count(slip: Slip) -> int:
    return db.session.scalar(select(func.count()).where(SlipPhoto.slip_id == slip.id)) or 0


def signature_data_uri(slip: Slip) -> str:
    """The resident's signature as a data: URI for a printed page ("" when there is none or
    its file is missing); only files under the instance folder's signatures/ are read."""
    if not slip.signature_file:
        return ""
    root = (Path(current_app.instance_path) / "signatures").resolve()
    path = (Path(current_app.instance_path) / slip.signature_file).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return ""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
