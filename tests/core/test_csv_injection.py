"""CSV exports never hand a spreadsheet a formula (OWASP CSV injection): cells starting with
=, +, -, @, tab or CR get a leading ', and importing the CSV gives the original text back."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from hindsight.bookmarks import BookmarkStore
from hindsight.bookmarks.export import import_csv, neutralise_cell, restore_cell
from hindsight.cli import main
from hindsight.store import CaptureWriter, EventColumns

HOSTILE = {"tag": "-2+3 tag", "note": "@SUM(1+1)*cmd|' /C calc'!A0", "hypothesis": "+thing", "selector": "\t=x"}


@pytest.fixture
def capture(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    path = tmp_path / "shop.sqlite"
    w = CaptureWriter.create(path)
    page = w.add_page("=1+2", "a page recorded with a hostile URL")
    snap = w.add_snapshot(page, "desktop", 1280, 2000, None, [])
    n = 10
    ev = EventColumns(t=np.arange(n, dtype=np.uint32) * 100, kind=np.zeros(n, dtype=np.uint8),
                      x=np.zeros(n, dtype=np.int32), y=np.zeros(n, dtype=np.int32),
                      target=np.full(n, -1, dtype=np.int16), value=np.zeros(n, dtype=np.int32))
    w.add_session({"start_ms": 1_700_000_000_000, "device": "desktop", "viewport_w": 1280, "viewport_h": 800},
                  [{"page_id": page, "snapshot_id": snap, "start_ms": 0, "end_ms": 900, "events": ev}])
    w.close()
    return path


def test_recorded_url_is_not_a_formula_in_the_csv(capture, tmp_path, capsys):
    assert main(["bookmark", "add", str(capture), "--session", "1", "--at", "500", "--tag", HOSTILE["tag"],
                 "--note", HOSTILE["note"]]) == 0
    assert main(["bookmark", "hypothesis", str(capture), "--tag", HOSTILE["tag"], "--text", HOSTILE["hypothesis"]]) == 0
    out = tmp_path / "bookmarks.csv"
    assert main(["bookmarks", "export", str(capture), "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    bookmark = next(r for r in rows if r["record"] == "bookmark")
    pattern = next(r for r in rows if r["record"] == "pattern")
    assert bookmark["page_url"] == "'=1+2"
    assert bookmark["tag"] == "'-2+3 tag" and pattern["tag"] == "'-2+3 tag"
    assert bookmark["note"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert pattern["hypothesis"] == "'+thing"
    for r in rows:  # no cell a spreadsheet would evaluate
        assert not any(v and v[0] in "=+-@\t\r" for v in r.values()), r
    assert bookmark["session_id"] == "1" and bookmark["t_ms"] == "500"   # numbers stay numbers

    back = BookmarkStore(tmp_path / "back.sqlite")
    import_csv(back, out, check=False)
    (b,) = back.bookmarks()
    assert (b.page_url, b.tag, b.note) == ("=1+2", HOSTILE["tag"], HOSTILE["note"])
    assert back.pattern(HOSTILE["tag"]).hypothesis == "+thing"


@pytest.mark.parametrize("text", ["=1+2", "+1", "-1", "@x", "\tx", "\rx", "'=1", "''@", "plain", "", "'", "'plain",
                                  "a=1", " =1"])
def test_neutralise_round_trips(text):
    safe = neutralise_cell(text)
    assert restore_cell(safe) == text
    assert not (safe[:1] and safe[0] in "=+-@\t\r")
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        assert safe == "'" + text
