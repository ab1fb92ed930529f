"""What a file is, read from its first bytes (never its name or the client's Content-Type).

A leaf module: the settings check imports it to refuse a type nobody can detect or that may
never be served. Raster images are identified by Pillow itself (see :mod:`.images`); every
other type by ``filetype``'s magic numbers. Text formats (HTML, SVG, scripts) have no magic
number: they are never detected, so they are never accepted.
"""

from __future__ import annotations

import filetype

#: Raster images shown inline (thumbnail, then full size), by content type: Pillow's format
#: name and the extension a download gets.
IMAGES = {
    "image/jpeg": ("JPEG", "jpg"),
    "image/png": ("PNG", "png"),
    "image/gif": ("GIF", "gif"),
    "image/webp": ("WEBP", "webp"),
}
#: Types that must never be accepted, whatever a setting says: what a browser runs or renders
#: as a document, and programs.
NEVER = frozenset({
    "text/html", "image/svg+xml", "application/xhtml+xml", "application/javascript",
    "text/javascript", "application/x-msdownload", "application/x-executable",
    "application/x-elf", "application/x-mach-binary", "application/x-sh",
    "application/x-shockwave-flash", "application/java-archive", "application/wasm",
    "application/x-sqlite3",
})
#: How many first bytes the detection reads.
HEAD_BYTES = 8192


def _detectable() -> dict[str, str]:
    """content type -> extension of everything ``filetype`` recognises that is not an image:
    images are the four of :data:`IMAGES` only, whose metadata is removed by re-encoding
    (a HEIC or TIFF would keep its location and be shown as it came)."""
    return {kind.mime: kind.extension for kind in filetype.types
            if not kind.mime.startswith("image/")}


def parse_types(value: str) -> list[str]:
    """The content types of a ``FILES_ALLOWED_TYPES`` value, lower case, in order."""
    return [part.strip().lower() for part in (value or "").split(",") if part.strip()]


def unknown_types(value: str) -> list[str]:
    """The types of a ``FILES_ALLOWED_TYPES`` value that cannot be detected, may never be
    accepted or are images other than JPEG, PNG, GIF and WebP (the setting is refused at
    start-up when there are any)."""
    known = set(IMAGES) | set(_detectable())
    return [kind for kind in parse_types(value) if kind not in known or kind in NEVER]


def detect_other(head: bytes) -> tuple[str, str] | None:
    """``(content type, extension)`` of a non-image file from its first bytes, or None when
    its type cannot be told (text, HTML, SVG, scripts, random bytes)."""
    kind = filetype.guess(head[:HEAD_BYTES])
    if kind is None or kind.mime in IMAGES:
        return None
    return kind.mime, kind.extension


def extension_of(content_type: str) -> str:
    """The file extension that goes with a detected content type."""
    if content_type in IMAGES:
        return IMAGES[content_type][1]
    return _detectable().get(content_type, "bin")
