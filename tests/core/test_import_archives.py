"""Compressed recordings: streamed inflation with a cap, bombs refused early, damaged archives
give one line. Plus archive-level mutation fuzzing (byte flips, truncations) of real recordings."""

from __future__ import annotations

import gzip
import io
import random
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from hindsight.importers.archive import BOMB_FLOOR, MAX_RATIO, gunzip, inflate, unzip
from hindsight.importers.rrweb import read_file
from hindsight.store import CaptureError

DATA = Path(__file__).resolve().parents[1] / "data" / "rrweb"
RECORDING = (DATA / "session_abandon_rrweb2.json").read_bytes()


def _zip(members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return buf.getvalue()


def _gzip_bomb(mb: int) -> bytes:
    """``mb`` MB of zeros as a gzip file: 16 MB members, concatenated (valid gzip, cheap to make)."""
    member = gzip.compress(bytes(16 * 2**20), compresslevel=9)
    return member * (mb // 16)


def test_gzip_and_zip_recordings_read_like_the_json(tmp_path):
    for name, data in (("r.json.gz", gzip.compress(RECORDING)), ("r.zip", _zip({"r.json": RECORDING})),
                       ("r2.zip", _zip({"readme.txt": b"hi", "export/r.json": RECORDING})),
                       ("r3.zip", _zip({"r.json.gz": gzip.compress(RECORDING)})),
                       ("multi.json.gz", gzip.compress(RECORDING[:1000]) + gzip.compress(RECORDING[1000:]))):
        p = tmp_path / name
        p.write_bytes(data)
        doc = read_file(p)
        assert isinstance(doc, list) and len(doc) > 10, name
        assert doc[0]["type"] == 4 or any(e["type"] == 4 for e in doc)


def test_gzip_bomb_is_refused_early_with_bounded_memory(tmp_path):
    bomb = _gzip_bomb(1024)           # 1 GB of zeros in 1 MB
    assert len(bomb) < 2 * 2**20
    p = tmp_path / "bomb.json.gz"
    p.write_bytes(bomb)
    tracemalloc.start()
    t = time.perf_counter()
    with pytest.raises(CaptureError) as info:
        read_file(p)
    elapsed = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    msg = str(info.value)
    assert str(p) in msg and "\n" not in msg and "decompression bomb" in msg
    # refused once past BOMB_FLOOR (32 MB) at more than MAX_RATIO x: a few dozen MB, not 1 GB
    assert peak < BOMB_FLOOR + 16 * 2**20 + 3 * len(bomb), peak
    assert elapsed < 10, elapsed


def test_zip_bomb_is_refused(tmp_path):
    p = tmp_path / "bomb.zip"
    p.write_bytes(_zip({"r.json": bytes(60 * 2**20)}))
    assert p.stat().st_size < 2 * 2**20
    with pytest.raises(CaptureError, match="decompression bomb"):
        read_file(p)
    # declared size above the cap: refused before inflating
    with pytest.raises(CaptureError, match="above the import limit"):
        read_file(p, max_bytes=40 * 2**20)


def test_inflated_size_above_the_cap_is_refused(tmp_path):
    body = b"[" + b",".join([b'{"type": 3, "timestamp": 1795453188786}'] * 40_000) + b"]"
    p = tmp_path / "big.json.gz"
    p.write_bytes(gzip.compress(body))
    assert len(body) > 2**20
    with pytest.raises(CaptureError, match="unpacks to more than the import limit of 1 MB"):
        read_file(p, max_bytes=2**20)
    assert isinstance(read_file(p, max_bytes=4 * 2**20), list)


@pytest.mark.parametrize("case", ["truncated", "flipped", "trailing", "header", "empty-zip", "zip-many",
                                  "zip-truncated", "zip-flipped", "zip-stored-cut"])
def test_damaged_archives_give_one_line(tmp_path, case):
    gz = gzip.compress(RECORDING)
    zp = _zip({"r.json": RECORDING})
    data = {
        "truncated": gz[: len(gz) // 2],
        "flipped": gz[:200] + bytes([gz[200] ^ 0xFF]) + gz[201:],
        "trailing": gz + b"garbage",
        "header": b"\x1f\x8b\x09" + gz[3:],
        "empty-zip": _zip({}),
        "zip-many": _zip({"a.json": b"[]", "b.json": b"[]"}),
        "zip-truncated": zp[: len(zp) // 2],
        "zip-flipped": zp[:300] + bytes([zp[300] ^ 0xFF]) + zp[301:],
        "zip-stored-cut": _zip({"r.json": RECORDING}, zipfile.ZIP_STORED)[:-30],
    }[case]
    p = tmp_path / "r.json.gz"
    p.write_bytes(data)
    with pytest.raises(CaptureError) as info:
        read_file(p)
    msg = str(info.value)
    assert msg.startswith(str(p)) and "\n" not in msg, msg


def _mutants(n: int, seed: int):
    """(description, bytes) of ``n`` mutated gzip / zip archives of real recordings."""
    rng = random.Random(seed)
    bases = [RECORDING, (DATA / "session_error_rrweb1.json").read_bytes(),
             (DATA / "session_mobile_rrweb2.json").read_bytes()]
    packed = [gzip.compress(b) for b in bases] + [_zip({"r.json": b}) for b in bases]
    for i in range(n):
        data = bytearray(rng.choice(packed))
        how = rng.choice(("flip", "flip", "cut", "splice", "zero"))
        if how == "flip":
            for _ in range(rng.choice((1, 2, 4, 16))):
                pos = rng.randrange(len(data)) if rng.random() < 0.7 else rng.randrange(min(64, len(data)))
                data[pos] ^= 1 << rng.randrange(8)
        elif how == "cut":
            data = data[: rng.randrange(len(data))]
        elif how == "splice":
            a = rng.randrange(len(data))
            data[a:a + rng.randrange(1, 64)] = rng.randbytes(rng.randrange(0, 64))
        else:
            a = rng.randrange(len(data))
            data[a:a + 512] = bytes(min(512, len(data) - a))
        yield f"{i} {how}", bytes(data)


def _fuzz_archives(n: int, seed: int) -> dict:
    from hindsight.importers.rrweb import parse_session, unwrap

    outcomes = {"imported": 0, "rejected": 0}
    for desc, data in _mutants(n, seed):
        try:
            doc = inflate(data, "fuzz.json.gz", 64 * 2**20)
            from hindsight.importers.rrweb import parse_json_bytes

            rec = unwrap(parse_json_bytes(doc, "fuzz.json.gz"), "fuzz.json.gz")
            parse_session(rec.events, "fuzz.json.gz", fmt=rec.format)
            outcomes["imported"] += 1
        except CaptureError as exc:
            assert str(exc).startswith("fuzz.json.gz") and "\n" not in str(exc), (desc, str(exc))
            outcomes["rejected"] += 1
    return outcomes


def test_archive_mutations_sample():
    out = _fuzz_archives(150, seed=1)
    print(f"archive fuzz: 150 mutations: {out}")
    assert out["imported"] + out["rejected"] == 150 and out["rejected"] > 0 and out["imported"] > 0


@pytest.mark.slow
def test_archive_mutations_long(request):
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("slow: run with pytest -m slow")
    out = _fuzz_archives(2500, seed=2)
    print(f"archive fuzz (long): 2500 mutations: {out}")
    assert out["imported"] + out["rejected"] == 2500


def test_gunzip_and_unzip_directly():
    assert gunzip(gzip.compress(b"[1]"), "x", 100) == b"[1]"
    assert unzip(_zip({"a.json": b"[2]"}), "x", 100) == b"[2]"
    assert inflate(b"[3]", "x", 100) == b"[3]"
    with pytest.raises(CaptureError, match="more than the import limit"):
        gunzip(gzip.compress(b"x" * 1000), "x", 100)
    assert MAX_RATIO >= 100
