"""Reading compressed recordings (``.json.gz``, ``.zip``) with a cap checked while inflating.

Decompression is streamed in 1 MB steps, so memory never exceeds the cap (plus one step):
a file that inflates beyond ``max_bytes``, or a small file that inflates more than
:data:`MAX_RATIO` times its compressed size (a decompression bomb), is refused as soon as
that shows, not after inflating everything. Damaged archives give a one-line
``CaptureError`` instead of ``zlib.error`` / ``BadZipFile``.
"""

from __future__ import annotations

import io
import os
import zipfile
import zlib

from hindsight.store.errors import CaptureError

STEP = 2**20
#: Inflating more than this many times the compressed size is refused once past BOMB_FLOOR.
MAX_RATIO = 200
BOMB_FLOOR = 32 * 2**20

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"


def _limit_text(max_bytes: int) -> str:
    return f"the import limit of {max_bytes / 2**20:.0f} MB (--max-file-mb)"


def _check_growth(path, out: int, consumed: int, max_bytes: int) -> None:
    if out > max_bytes:
        raise CaptureError(path, f"unpacks to more than {_limit_text(max_bytes)}; refused")
    if out > BOMB_FLOOR and out > MAX_RATIO * max(consumed, 1):
        raise CaptureError(path, f"unpacks to more than {MAX_RATIO}x its compressed size "
                                 f"({out / 2**20:.0f} MB from {consumed / 2**10:.0f} KB so far): "
                                 "a decompression bomb or a damaged file; refused")


def gunzip(data: bytes, path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """Inflate gzip ``data`` (several members allowed), refusing more than ``max_bytes``."""
    out: list[bytes] = []
    total = 0
    pos = 0
    try:
        while pos < len(data):
            if data[pos:pos + 2] != GZIP_MAGIC:
                if data[pos:].strip(b"\0"):
                    raise CaptureError(path, "is a damaged gzip file (trailing garbage after the compressed data)")
                break
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            buf = memoryview(data)[pos:]
            fed = 0
            while not d.eof:
                if d.unconsumed_tail:
                    chunk = d.decompress(d.unconsumed_tail, STEP)
                elif fed < len(buf):
                    piece = bytes(buf[fed:fed + STEP])
                    fed += len(piece)
                    chunk = d.decompress(piece, STEP)
                else:
                    raise CaptureError(path, "is a damaged gzip file (it ends early: truncated?)")
                total += len(chunk)
                out.append(chunk)
                consumed = pos + fed - len(d.unconsumed_tail) - len(d.unused_data)
                _check_growth(path, total, consumed, max_bytes)
            pos += fed - len(d.unused_data)
    except zlib.error as exc:
        raise CaptureError(path, f"is a damaged gzip file ({exc})") from None
    return b"".join(out)


def unzip(data: bytes, path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The recording inside a zip: its one member, or its one ``.json`` / ``.json.gz`` member."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in zf.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise CaptureError(path, f"is a damaged zip file ({exc})") from None
    if len(members) > 1:
        json_members = [m for m in members if m.filename.lower().endswith((".json", ".json.gz"))]
        if len(json_members) != 1:
            names = ", ".join(m.filename for m in members[:5])
            raise CaptureError(path, f"is a zip of {len(members)} files ({names}...): expected one recording; "
                                     "unpack it and import the JSON files")
        members = json_members
    if not members:
        raise CaptureError(path, "is an empty zip file")
    m = members[0]
    if m.file_size > max_bytes:
        raise CaptureError(path, f"holds {m.filename}, {m.file_size / 2**20:.0f} MB unpacked, above {_limit_text(max_bytes)}")
    out: list[bytes] = []
    total = 0
    try:
        with zf.open(m) as f:
            while True:
                chunk = f.read(STEP)
                if not chunk:
                    break
                total += len(chunk)
                out.append(chunk)
                # the ratio against the member's declared compressed size (a lie there only
                # makes the size cap bite instead)
                _check_growth(path, total, m.compress_size, max_bytes)
    except CaptureError:
        raise
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise CaptureError(path, f"is a damaged zip file ({type(exc).__name__}: {exc})") from None
    body = b"".join(out)
    if body[:2] == GZIP_MAGIC:
        return gunzip(body, path, max_bytes)
    return body


def inflate(data: bytes, path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """``data`` itself, or inflated when it is gzip or zip (by its first bytes)."""
    if data[:2] == GZIP_MAGIC:
        return gunzip(data, path, max_bytes)
    if data[:4] == ZIP_MAGIC or data[:4] == b"PK\x05\x06":
        return unzip(data, path, max_bytes)
    return data
