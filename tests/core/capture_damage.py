"""Damaged copies of a capture, for the fuzz suite (``test_capture_fuzz.py``).

``damage(master, out, i)`` writes the i-th damaged copy of ``master`` to ``out``; the same i
always gives the same damage. Kinds rotate with i: byte flips, truncations, page corruption
and SQL-level damage (wrong types, negative / huge values, dangling references, damaged event
records with a bad kind / target / x / t, absurd snapshot sizes, broken images, missing rows).
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import struct
import zlib
from pathlib import Path

from hindsight.store.columns import BYTES_PER_EVENT

FILE_DAMAGE = ("flip", "truncate", "page")
SQL_DAMAGE = ("type", "number", "dangling", "event", "event", "event", "blob", "snapshot", "image", "delete",
              "meta", "element")
KINDS = FILE_DAMAGE + SQL_DAMAGE

#: Columns to damage per table (primary keys left alone: SQLite refuses non-integers there).
COLUMNS = {
    "sessions": ("start_ms", "duration_ms", "device", "browser", "country", "source", "viewport_w", "viewport_h",
                 "converted", "entry_page_id", "exit_page_id", "pageview_count", "event_count", "visitor_id"),
    "pageviews": ("session_id", "seq", "page_id", "snapshot_id", "start_ms", "end_ms", "load_ms", "event_count"),
    "snapshots": ("page_id", "device", "width", "height", "scale", "image_format"),
    "elements": ("idx", "selector", "tag", "label", "x", "y", "w", "h", "clickable", "field", "form", "sensitive"),
    "pages": ("url", "title"),
    "strings": ("text",),
}
BAD_VALUES = ("text", b"\x00\xff\xfe", 1.5, None, 1e308, -1e308, -1, -253_300, 2**31, 2**63 - 1, -2**63, 0,
              "9" * 30, float("-0"), 2**40)
NUMBERS = (-1, -5000, -2**31, 2**31, 2**32, 2**40, 2**62, 10**9, 0)


def damage(master: Path, out: Path, i: int) -> str:
    """Write damaged copy ``i`` of ``master`` to ``out``; returns a short description."""
    rng = random.Random(i * 7919 + 13)
    kind = KINDS[i % len(KINDS)]
    shutil.copyfile(master, out)
    if kind in FILE_DAMAGE:
        return _file_damage(out, kind, rng)
    con = sqlite3.connect(out)
    try:
        desc = _sql_damage(con, kind, rng)
        con.commit()
    finally:
        con.close()
    return desc


def _file_damage(path: Path, kind: str, rng: random.Random) -> str:
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big") or 65536
    if kind == "flip":
        n = rng.choice((1, 2, 8, 64))
        # half the flips land in the first pages (schema, small tables), the rest anywhere
        top = len(data) if rng.random() < 0.5 else min(len(data), page_size * 16)
        for _ in range(n):
            pos = rng.randrange(top)
            data[pos] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(data))
        return f"flip {n} bits"
    if kind == "truncate":
        cut = rng.choice((rng.randrange(len(data)), rng.randrange(page_size * 8), len(data) - rng.randrange(1, 4096)))
        path.write_bytes(bytes(data[:max(0, cut)]))
        return f"truncate to {cut}"
    pages = len(data) // page_size
    p = rng.randrange(1, max(2, min(pages, 40 if rng.random() < 0.6 else pages)))
    fill = rng.choice(("zero", "random", "shift"))
    start = p * page_size
    if fill == "zero":
        data[start:start + page_size] = bytes(page_size)
    elif fill == "random":
        data[start:start + page_size] = rng.randbytes(page_size)
    else:
        data[start:start + page_size] = data[start + 7:start + page_size + 7].ljust(page_size, b"\0")
    path.write_bytes(bytes(data))
    return f"page {p} {fill}"


def _row(con, table: str, rng: random.Random):
    ids = [r[0] for r in con.execute(f"SELECT rowid FROM {table}")]
    return rng.choice(ids) if ids else None


def _sql_damage(con: sqlite3.Connection, kind: str, rng: random.Random) -> str:
    if kind == "type":
        table = rng.choice(sorted(COLUMNS))
        col = rng.choice(COLUMNS[table])
        value = rng.choice(BAD_VALUES)
        rowid = _row(con, table, rng)
        _update(con, table, col, value, rowid)
        return f"{table}.{col}={value!r:.20} row {rowid}"
    if kind == "number":
        table = rng.choice(("sessions", "pageviews", "snapshots", "elements"))
        col = rng.choice([c for c in COLUMNS[table] if c not in ("device", "browser", "country", "source",
                                                                 "visitor_id", "selector", "tag", "label",
                                                                 "field", "form", "image_format")])
        value = rng.choice(NUMBERS)
        every = rng.random() < 0.3
        _update(con, table, col, value, None if every else _row(con, table, rng))
        return f"{table}.{col}={value} {'all rows' if every else 'one row'}"
    if kind == "dangling":
        table, col = rng.choice((("pageviews", "snapshot_id"), ("pageviews", "page_id"), ("pageviews", "session_id"),
                                 ("sessions", "entry_page_id"), ("snapshots", "page_id"), ("elements", "snapshot_id")))
        value = rng.choice((999_999, -7, 0))
        _update(con, table, col, value, _row(con, table, rng))
        return f"dangling {table}.{col}={value}"
    if kind == "event":
        return _event_damage(con, rng)
    if kind == "blob":
        rowid = _row(con, "pageviews", rng)
        (blob,) = con.execute("SELECT events FROM pageviews WHERE rowid = ?", (rowid,)).fetchone()
        how = rng.choice(("cut", "text", "null", "int", "grow", "empty"))
        value = {"cut": blob[:max(0, len(blob) - rng.randrange(1, BYTES_PER_EVENT))], "text": "not a blob",
                 "null": None, "int": 42, "grow": blob + b"\x01" * rng.randrange(1, 40), "empty": b""}[how]
        _update(con, "pageviews", "events", value, rowid)
        return f"blob {how}"
    if kind == "snapshot":
        col = rng.choice(("width", "height", "scale"))
        value = rng.choice((0, -5, 10**9, 2**62, 1e-9, 1e300, 100_000, 300_000, "wide"))
        _update(con, "snapshots", col, value, None if rng.random() < 0.3 else _row(con, "snapshots", rng))
        return f"snapshot {col}={value}"
    if kind == "image":
        rowid = _row(con, "snapshots", rng)
        (img,) = con.execute("SELECT image FROM snapshots WHERE rowid = ?", (rowid,)).fetchone()
        how = rng.choice(("cut", "garbage", "huge", "text", "flip"))
        if how == "cut":
            value = img[:rng.randrange(8, max(9, len(img)))] if img else b"\x89PNG"
        elif how == "garbage":
            value = rng.randbytes(200)
        elif how == "huge":
            value = _png_header(rng.choice((100_000, 60_000)), rng.choice((100_000, 200_000)))
        elif how == "text":
            value = "PNG?"
        else:
            value = bytearray(img or b"\x89PNG\r\n\x1a\n")
            for _ in range(4):
                value[rng.randrange(len(value))] ^= 0xFF
            value = bytes(value)
        _update(con, "snapshots", "image", value, rowid)
        return f"image {how}"
    if kind == "delete":
        table = rng.choice(("pages", "snapshots", "elements", "strings", "sessions", "pageviews"))
        rowid = _row(con, table, rng)
        con.execute(f"DELETE FROM {table} WHERE rowid = ?", (rowid,))
        return f"delete {table} row {rowid}"
    if kind == "meta":
        key = rng.choice(("format", "format_version", "masking", "creator"))
        value = rng.choice(("2", "-1", "x", b"\xff\xfe", None, "1"))
        if value is None:
            con.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            con.execute("UPDATE meta SET value = ? WHERE key = ?", (value, key))
        return f"meta {key}={value!r}"
    # element: index numbering
    rowid = _row(con, "elements", rng)
    value = rng.choice((-1, 5000, 32767, 2**40))
    con.execute("UPDATE OR IGNORE elements SET idx = ? WHERE rowid = ?", (value, rowid))
    return f"element idx={value}"


def _update(con, table, col, value, rowid) -> None:
    where = "" if rowid is None else f" WHERE rowid = {int(rowid)}"
    try:
        con.execute(f"UPDATE OR IGNORE {table} SET {col} = ?{where}", (value,))
    except sqlite3.IntegrityError:
        pass


def _event_damage(con: sqlite3.Connection, rng: random.Random) -> str:
    """Rewrite fields of a few event records of one or several pageviews."""
    rows = con.execute("SELECT rowid, events FROM pageviews WHERE length(events) > 0").fetchall()
    how = rng.choice(("kind", "target", "x", "y", "t", "order", "value", "many"))
    picked = rng.sample(rows, k=min(len(rows), rng.choice((1, 1, 3))))
    for rowid, blob in picked:
        rec = bytearray(blob)
        n = len(rec) // BYTES_PER_EVENT
        for _ in range(rng.choice((1, 2, 5)) if how != "many" else 40):
            j = rng.randrange(n) * BYTES_PER_EVENT
            field = how if how != "many" else rng.choice(("kind", "target", "x", "y", "t", "value"))
            if field == "kind":
                rec[j + 4] = rng.choice((17, 200, 255))
            elif field == "target":
                rec[j + 13:j + 15] = struct.pack("<h", rng.choice((32767, -2, -32768, 5000)))
            elif field == "x":
                rec[j + 5:j + 9] = struct.pack("<i", rng.choice((-2**31, 2**31 - 1, 10**8, -10**6)))
            elif field == "y":
                rec[j + 9:j + 13] = struct.pack("<i", rng.choice((-2**31, 2**31 - 1, 10**8, -10**6)))
            elif field == "t":
                rec[j:j + 4] = struct.pack("<I", rng.choice((0xFFFFFFFF, 2**31, 10**9)))
            elif field == "order":
                t = struct.unpack("<I", rec[j:j + 4])[0]
                rec[j:j + 4] = struct.pack("<I", max(0, t - rng.randrange(1, 5000)) if t else t + 900)
            else:
                rec[j + 15:j + 19] = struct.pack("<i", rng.choice((-1, -2**31, 2**31 - 1, 999_999)))
        con.execute("UPDATE pageviews SET events = ? WHERE rowid = ?", (bytes(rec), rowid))
    return f"events {how} in {len(picked)} pageview(s)"


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (a decompression bomb's signature)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    idat = zlib.compress(b"\0" * 1000)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
            + struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
            + b"\0\0\0\0IEND\xaeB`\x82")
