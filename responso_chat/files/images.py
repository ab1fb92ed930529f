"""An uploaded file examined: its type from its content, images re-encoded without metadata.

Raster images (JPEG, PNG, GIF, WebP) are identified by Pillow, checked against a pixel limit
before anything is decoded (a decompression bomb is refused, never expanded), turned upright
by their EXIF orientation, then saved again from their pixels only: EXIF (GPS location, camera,
dates), XMP, comments and text chunks are left behind. A thumbnail is made the same way.
"""

from __future__ import annotations

import io
import unicodedata
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from responso_chat.files import types

#: Longest side of a thumbnail, in pixels.
THUMBNAIL_SIZE = 320
#: Longest original name kept, in characters.
NAME_MAX = 200


class FileRefused(Exception):
    """An upload that cannot be accepted: ``message`` says why, ``status`` is the answer's."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Examined:
    """A file ready to store: its bytes (re-encoded for images), type, and thumbnail."""

    name: str
    content_type: str
    data: bytes
    thumbnail: bytes | None = None
    width: int | None = None
    height: int | None = None

    @property
    def is_image(self) -> bool:
        return self.content_type in types.IMAGES


def clean_name(name: str, extension: str) -> str:
    """The client's file name made safe to show and to send back in a header: no folders, no
    control or direction characters, at most :data:`NAME_MAX` characters, ending with the
    extension of the detected type (``invoice`` of a PDF becomes ``invoice.pdf``)."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] not in ("C", "Z") or c == " ")
    stem, dot, ext = name.strip(" .").rpartition(".")
    if not dot:
        stem, ext = ext, ""
    known = {extension, "jpeg"} if extension == "jpg" else {extension}
    if ext.lower() not in known:
        stem = f"{stem}.{ext}" if ext else stem
        ext = extension
    stem = stem.strip(" .")[: NAME_MAX - len(ext) - 1] or "file"
    return f"{stem}.{ext}"


def _open_image(data: bytes):
    """The image Pillow identifies in ``data`` (not decoded yet), or None if none."""
    formats = [pillow for pillow, _ext in types.IMAGES.values()]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=formats)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise FileRefused("This image has too many pixels to be opened safely.") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None


def _frames(image) -> int:
    try:
        return max(1, int(getattr(image, "n_frames", 1)))
    except (OSError, ValueError, EOFError):
        return 1


#: What of an image's ``info`` a save may carry over: how it animates and which colour is
#: transparent. EXIF, XMP, ICC profiles, comments and text chunks stay behind (Pillow writes
#: some of them from ``info`` when they are left there).
DRAWING_INFO = frozenset({"loop", "duration", "transparency", "background", "disposal"})


def _save(image, pillow_format: str, **options) -> bytes:
    image.info = {k: v for k, v in image.info.items() if k in DRAWING_INFO}
    out = io.BytesIO()
    image.save(out, format=pillow_format, **options)
    return out.getvalue()


def _reencode(image, pillow_format: str) -> bytes:
    """The image saved again from its pixels alone (all frames of an animation)."""
    if pillow_format == "JPEG":
        upright = ImageOps.exif_transpose(image)
        if upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        return _save(upright, "JPEG", quality=90, optimize=True)
    if _frames(image) > 1 and pillow_format in ("GIF", "WEBP"):
        return _save(image, pillow_format, save_all=True, loop=image.info.get("loop", 0),
                     duration=image.info.get("duration", 100))
    upright = ImageOps.exif_transpose(image)
    if pillow_format == "WEBP":
        return _save(upright, "WEBP", quality=90)
    return _save(upright, pillow_format)


def _thumbnail(image) -> bytes:
    """A small PNG (transparency kept) or JPEG of the first frame."""
    image.seek(0)
    small = ImageOps.exif_transpose(image)
    small.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    if small.mode in ("RGBA", "LA", "P") and (
        small.mode != "P" or "transparency" in small.info
    ):
        return _save(small.convert("RGBA"), "PNG", optimize=True)
    return _save(small.convert("RGB"), "JPEG", quality=85)


def examine(data: bytes, name: str, allowed: list[str], max_pixels: int) -> Examined:
    """Decide what ``data`` is and prepare it to be stored, or raise :class:`FileRefused`.

    The type comes from the content only; a type outside ``allowed`` is refused (a script
    named ``.jpg`` is no image and no known type: refused); images above ``max_pixels``
    (width x height x frames) are refused before being decoded.
    """
    if not data:
        raise FileRefused("This file is empty.")
    image = _open_image(data)
    if image is not None:
        content_type = Image.MIME.get(image.format, "")
        if content_type not in allowed:
            raise FileRefused("This type of file is not accepted.")
        width, height = image.size
        if width * height * _frames(image) > max_pixels:
            raise FileRefused(
                f"This image is too large ({width} x {height} pixels): the most is "
                f"{max_pixels:,} pixels."
            )
        pillow_format = types.IMAGES[content_type][0]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image.load()
                stored = _reencode(image, pillow_format)
                thumbnail = _thumbnail(image)
        except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError,
                Image.DecompressionBombWarning):
            raise FileRefused("This image is damaged and cannot be read.") from None
        if pillow_format == "JPEG" or image.size != (width, height):
            width, height = Image.open(io.BytesIO(stored)).size
        return Examined(
            name=clean_name(name, types.IMAGES[content_type][1]),
            content_type=content_type,
            data=stored,
            thumbnail=thumbnail,
            width=width,
            height=height,
        )
    found = types.detect_other(data)
    if found is None or found[0] not in allowed or found[0] in types.NEVER:
        raise FileRefused("This type of file is not accepted.")
    content_type, extension = found
    return Examined(name=clean_name(name, extension), content_type=content_type, data=data)
