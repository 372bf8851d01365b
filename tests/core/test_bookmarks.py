"""Bookmarks, patterns, find similar and export (no Qt): storage in the capture, read-only
fallbacks, crash safety, recorded tables untouched, precision/recall against planted truth."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from hindsight.bookmarks import BookmarkError, BookmarkStore, ice_score
from hindsight.bookmarks import store as store_mod
from hindsight.bookmarks.export import export, format_time, import_csv, to_csv, to_markdown
from hindsight.bookmarks.patterns import Pattern, sort_patterns
from hindsight.bookmarks.similar import (
    Behaviour,
    detect_rage_clicks,
    find_behaviour,
    find_similar,
    precision_recall,
)
from hindsight.cli import main as cli_main
from hindsight.store import open_capture

RECORDED_TABLES = ("sessions", "pageviews", "pages", "snapshots", "elements")
RAGE_TAG = "rage on product image"


def recorded_digest(path) -> dict[str, str]:
    """sha1 of every row of every recorded table, in rowid order."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        out = {}
        for table in RECORDED_TABLES:
            h = hashlib.sha1()
            for row in con.execute(f"SELECT * FROM {table} ORDER BY rowid"):
                h.update(repr(row).encode())
            out[table] = h.hexdigest()
        return out
    finally:
        con.close()


def first_planted(cap, kind):
    return cap.planted(kind)[0]


@pytest.fixture
def xdg(tmp_path, monkeypatch):
    data = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    return data


# -- storing -----------------------------------------------------------------------------------
def test_bookmarks_live_in_the_capture_and_survive_reopen(demo_copy, xdg):
    before = recorded_digest(demo_copy)
    store = BookmarkStore.for_capture(demo_copy)
    assert store.location == "capture" and store.path == demo_copy
    assert store.bookmarks() == [] and store.patterns() == []
    assert not xdg.exists() and not store_mod.sidecar_path(demo_copy).exists()

    a = store.add(25, 5763, RAGE_TAG, "clicks the product shot 4 times")
    b = store.add(29, 9963, "  Rage on   product image ", end_ms=11000)  # same tag, other spelling
    c = store.add(1, 0, "landing")
    assert b.tag == RAGE_TAG and b.end_ms == 11000 and a.end_ms is None
    assert a.page_url == "https://demo.hindsight.local/"

    reopened = BookmarkStore.for_capture(demo_copy)
    got = reopened.bookmarks()
    assert [x.id for x in got] == [c.id, a.id, b.id]  # by tag, then session
    assert reopened.bookmark(a.id) == a
    assert recorded_digest(demo_copy) == before
    with open_capture(demo_copy) as cap:  # the capture still opens, with its new tables
        assert {"bookmarks", "patterns"} <= cap.tables
        assert cap.counts()["sessions"] == 2000


def test_add_checks_session_time_and_tag(demo_copy, xdg):
    store = BookmarkStore.for_capture(demo_copy)
    with pytest.raises(BookmarkError, match="no session 999999"):
        store.add(999999, 0, "x")
    with pytest.raises(BookmarkError, match="past the end"):
        store.add(25, 10**9, "x")
    with pytest.raises(BookmarkError, match="before the start"):
        store.add(25, 500, "x", end_ms=100)
    with pytest.raises(BookmarkError, match="needs a tag"):
        store.add(25, 500, "   ")
    assert store.count() == 0


def test_update_delete_and_patterns(demo_copy, xdg):
    store = BookmarkStore.for_capture(demo_copy)
    for sid in (25, 29, 37):
        store.add(sid, 1000, RAGE_TAG)
    one = store.add(40, 1000, "phone hesitation")
    store.add(41, 1000, "phone hesitation")
    store.add(41, 3000, "phone hesitation")
    store.set_pattern("phone hesitation", "We observed X. We believe that changing Y will improve Z because W.",
                      impact=9, confidence=8, ease=7)
    pats = store.patterns()
    assert [p.tag for p in pats] == ["phone hesitation", RAGE_TAG]  # rated first, despite fewer sessions
    ph, rage = pats
    assert (ph.sessions, ph.bookmarks, ph.ice, ph.worth_a_hypothesis) == (2, 3, 8.0, False)
    assert (rage.sessions, rage.ice, rage.worth_a_hypothesis) == (3, None, True)
    with pytest.raises(BookmarkError, match="impact must be from 1 to 10"):
        store.set_pattern(RAGE_TAG, impact=0)
    store.set_pattern(RAGE_TAG, impact=10, confidence=10, ease=10)
    assert store.patterns()[0].tag == RAGE_TAG

    store.update(one.id, note="waits 6 s", tag="PHONE hesitation")
    assert store.bookmark(one.id).note == "waits 6 s"
    assert store.bookmark(one.id).tag == "phone hesitation"
    store.delete(one.id)
    with pytest.raises(BookmarkError, match=f"no bookmark {one.id}"):
        store.bookmark(one.id)
    assert store.pattern("phone hesitation").bookmarks == 2
    assert store.tags()[0] == "phone hesitation"


def test_ice_and_sorting():
    assert ice_score(8, 6, 4) == 6.0
    assert ice_score(8, None, 4) is None
    ps = [Pattern("a", sessions=9), Pattern("b", impact=2, confidence=2, ease=2, sessions=1),
          Pattern("c", impact=9, confidence=9, ease=9, sessions=1), Pattern("d", sessions=12)]
    assert [p.tag for p in sort_patterns(ps)] == ["c", "b", "d", "a"]


# -- read-only captures ------------------------------------------------------------------------
def test_read_only_capture_uses_the_sidecar_and_still_loads(demo_copy, xdg, monkeypatch):
    before = recorded_digest(demo_copy)
    mtime = demo_copy.stat().st_mtime_ns
    store = BookmarkStore.for_capture(demo_copy, writable=lambda p: False)
    assert store.location == "sidecar"
    assert store.path == demo_copy.with_name("demo.sqlite.bookmarks.sqlite")
    b = store.add(25, 5763, RAGE_TAG)
    assert store.path.exists()
    # Still read-only next time (the checker in the module is what for_capture uses by default).
    monkeypatch.setattr(store_mod, "capture_writable", lambda p: False)
    again = BookmarkStore.for_capture(demo_copy)
    assert again.location == "sidecar" and again.bookmarks() == [b]
    assert demo_copy.stat().st_mtime_ns == mtime
    assert recorded_digest(demo_copy) == before
    with open_capture(demo_copy) as cap:
        assert "bookmarks" not in cap.tables


def test_read_only_folder_uses_the_user_data_folder(demo_copy, xdg, monkeypatch):
    monkeypatch.setattr(store_mod, "capture_writable", lambda p: False)
    monkeypatch.setattr(store_mod, "folder_writable", lambda p: False if p == demo_copy.parent else True)
    store = BookmarkStore.for_capture(demo_copy)
    assert store.location == "user"
    with open_capture(demo_copy) as cap:
        created = cap.meta["created_ms"]
    key = hashlib.sha1(f"{demo_copy.resolve()}\n{created}".encode()).hexdigest()
    assert store.path == xdg / "Hindsight" / "bookmarks" / f"{key}.sqlite"
    b = store.add(29, 9963, RAGE_TAG, "in the user's data folder")
    assert BookmarkStore.for_capture(demo_copy).bookmarks() == [b]
    assert not store_mod.sidecar_path(demo_copy).exists()


def test_sidecar_is_merged_back_when_the_capture_becomes_writable(demo_copy, xdg, monkeypatch):
    ro = BookmarkStore.for_capture(demo_copy, writable=lambda p: False)
    keep = ro.add(25, 5763, RAGE_TAG)
    gone = ro.add(29, 9963, RAGE_TAG)
    ro.set_pattern(RAGE_TAG, "hypothesis made while read-only", 5, 5, 5)
    rw = BookmarkStore.for_capture(demo_copy)
    assert rw.location == "capture" and rw.merged_from == [store_mod.sidecar_path(demo_copy)]
    assert [b.uid for b in rw.bookmarks()] == [keep.uid, gone.uid]
    assert rw.pattern(RAGE_TAG).hypothesis == "hypothesis made while read-only"
    rw.delete(rw.bookmarks()[1].id)
    # The sidecar still holds the deleted one: merging again must not bring it back.
    mtime = demo_copy.stat().st_mtime_ns
    again = BookmarkStore.for_capture(demo_copy)
    assert [b.uid for b in again.bookmarks()] == [keep.uid]
    assert again.merged_from == [] and demo_copy.stat().st_mtime_ns == mtime  # nothing new: no write


def test_refused_write_falls_back_to_the_sidecar(demo_copy, xdg, monkeypatch):
    """The permission checks said yes, SQLite said read-only: the bookmark is saved elsewhere."""
    real = BookmarkStore._open_for_writing

    def refuse_capture(self):
        if self.location == "capture":
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return real(self)

    monkeypatch.setattr(BookmarkStore, "_open_for_writing", refuse_capture)
    store = BookmarkStore.for_capture(demo_copy)
    assert store.location == "capture"
    b = store.add(25, 5763, RAGE_TAG)
    assert store.location == "sidecar" and store.bookmarks() == [b]


def _sha(path):
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_real_permission_bits(demo_copy, xdg):
    """chmod 0444 file, 0555 folder: read-only, also for root (whom the kernel would let
    write): the capture's bytes do not change and bookmarks go to the user data folder."""
    folder = demo_copy.parent
    assert store_mod.capture_writable(demo_copy)
    assert not store_mod.folder_writable(folder / "missing")
    demo_copy.chmod(0o444)
    folder.chmod(0o555)
    try:
        before = _sha(demo_copy)
        assert not store_mod.capture_writable(demo_copy)
        assert not store_mod.folder_writable(folder)
        store = BookmarkStore.for_capture(demo_copy)
        assert store.location == "user"
        b = store.add(25, 5763, RAGE_TAG)
        assert BookmarkStore.for_capture(demo_copy).bookmarks() == [b]
        assert _sha(demo_copy) == before
        assert [p.name for p in folder.iterdir() if p.name.startswith("demo")] == ["demo.sqlite"]
    finally:
        folder.chmod(0o755)
        demo_copy.chmod(0o644)


def test_chmod_444_capture_is_never_written_even_as_root(demo_copy, xdg, capsys):
    """The issue's case: `bookmark add` on a chmod 444 capture in a writable folder goes to
    the sidecar and leaves the capture byte for byte as it was (run as root here)."""
    from hindsight.cli import main

    demo_copy.chmod(0o444)
    try:
        before, mtime = _sha(demo_copy), demo_copy.stat().st_mtime_ns
        assert main(["bookmark", "add", str(demo_copy), "--session", "25", "--at", "5763",
                     "--tag", RAGE_TAG, "--json"]) == 0
        assert _sha(demo_copy) == before and demo_copy.stat().st_mtime_ns == mtime
        sidecar = store_mod.sidecar_path(demo_copy)
        assert sidecar.exists()
        store = BookmarkStore.for_capture(demo_copy)
        assert store.location == "sidecar" and [b.session_id for b in store.bookmarks()] == [25]
        assert main(["bookmarks", str(demo_copy)]) == 0
        assert "read-only" in capsys.readouterr().out
        assert _sha(demo_copy) == before
    finally:
        demo_copy.chmod(0o644)


# -- crash safety ------------------------------------------------------------------------------
def test_error_inside_a_transaction_keeps_earlier_bookmarks(demo_copy, xdg):
    store = BookmarkStore.for_capture(demo_copy)
    saved = [store.add(sid, 1000, RAGE_TAG) for sid in (25, 29, 37)]
    with pytest.raises(RuntimeError):
        with store.transaction() as con:
            con.execute("INSERT INTO bookmarks (uid, session_id, t_ms, tag, created_ms) VALUES ('x', 1, 0, 't', 0)")
            raise RuntimeError("crash")
    with pytest.raises(BookmarkError):  # all or nothing: one bad row, none added
        store.add_many([dict(session_id=40, t_ms=0, tag="t"), dict(session_id=999999, t_ms=0, tag="t")])
    assert store.bookmarks() == saved


def test_killed_mid_write_loses_nothing_saved(demo_copy, xdg):
    before = recorded_digest(demo_copy)
    script = textwrap.dedent(f"""
        import os, signal
        from hindsight.bookmarks import BookmarkStore
        store = BookmarkStore.for_capture({str(demo_copy)!r})
        for sid in (25, 29, 37):
            store.add(sid, 1000, "saved")
        with store.transaction() as con:
            con.execute("PRAGMA cache_size=8")  # spill to the file: the journal must undo it
            con.executemany(
                "INSERT INTO bookmarks (uid, session_id, t_ms, tag, created_ms) VALUES (?, 1, 0, 'lost', 0)",
                [(f"u{{i}}",) for i in range(20000)])
            con.execute("UPDATE bookmarks SET note = 'overwritten' WHERE tag = 'saved'")
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert demo_copy.with_name("demo.sqlite-journal").exists()  # a hot journal was left behind
    store = BookmarkStore.for_capture(demo_copy)
    got = store.bookmarks()
    assert [(b.session_id, b.tag, b.note) for b in got] == [(25, "saved", ""), (29, "saved", ""), (37, "saved", "")]
    assert recorded_digest(demo_copy) == before
    with open_capture(demo_copy) as cap:
        assert cap.counts()["sessions"] == 2000


# -- find similar ------------------------------------------------------------------------------
def test_find_similar_rage_click_matches_planted_sessions(demo_copy, xdg, capsys):
    with open_capture(demo_copy) as cap:
        planted = cap.planted("rage_click")
        sid, _, t_ms, _, selector, _ = planted[0]
        store = BookmarkStore.for_capture(cap)
        b = store.add(sid, t_ms, RAGE_TAG)
        result = find_similar(cap, b)
        assert result.behaviour.kind == "rage_click" and result.behaviour.selector == selector
        truth = {p[0] for p in planted}
        precision, recall = precision_recall(result.session_ids, truth)
        with capsys.disabled():
            print(f"\nfind similar (rage click): {result.count} found, {len(truth)} planted, "
                  f"precision {precision:.3f}, recall {recall:.3f}")
        assert precision >= 0.9 and recall >= 0.9
        assert result.count == len({m.session_id for m in result.matches})
        assert sid in set(result.session_ids.tolist())

        before = recorded_digest(demo_copy)
        added = store.add_matches(RAGE_TAG, result.matches, result.behaviour)
        assert len(added) == result.count - 1  # the bookmarked session already has it
        assert {a.signal_kind for a in added} == {"rage_click"} and {a.selector for a in added} == {selector}
        assert store.pattern(RAGE_TAG).sessions == result.count
        assert store.add_matches(RAGE_TAG, result.matches) == []  # idempotent
        assert recorded_digest(demo_copy) == before


def test_find_similar_form_behaviours(demo, capsys):
    """Hesitation on a field and abandonment at a field, against the planted ground truth."""
    from hindsight.bookmarks.store import Bookmark

    lines = []
    for kind in ("hesitation", "abandon"):
        rows = [p for p in demo.planted(kind) if p[4].endswith("[name=phone]")]
        sid, _, t_ms, _, selector, _ = rows[0]
        b = Bookmark(1, sid, t_ms, None, "t", "", 0)
        result = find_similar(demo, b)
        assert result.behaviour.kind == kind and result.behaviour.selector == selector
        precision, recall = precision_recall(result.session_ids, {p[0] for p in rows})
        lines.append(f"{kind} on phone: {result.count} found, {len(rows)} planted, "
                     f"precision {precision:.3f}, recall {recall:.3f}")
        assert recall >= 0.9
        # Hesitation: the replay detector also finds unplanted pauses of 2.5-4 s on the field.
        assert precision >= (0.8 if kind == "hesitation" else 0.9)
    with capsys.disabled():
        print("\n" + "\n".join(lines))


def test_page_sequence_fallback(demo):
    from hindsight.bookmarks.store import Bookmark

    quick = demo.planted("quick_back")[0]
    b = Bookmark(1, quick[0], 0, None, "t", "", 0, signal_kind="page_sequence")
    result = find_similar(demo, b)
    assert result.behaviour.kind == "page_sequence" and len(result.behaviour.pages) == 3
    seqs = demo._query("SELECT session_id, count(*) FROM pageviews GROUP BY session_id HAVING count(*) = 3")
    assert set(result.session_ids.tolist()) == {r[0] for r in seqs}


def test_own_rage_detector_agrees_with_signals(demo):
    from hindsight.analytics.signals import compute_signals

    mine = detect_rage_clicks(demo)
    theirs = compute_signals(demo).of_kind("rage_click")
    assert set(mine.session_id.tolist()) == set(theirs.session_id.tolist())
    assert set(mine.selector.tolist()) == {"img.product-shot"}


def test_find_similar_without_the_signals_module(demo, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_signals(name, *args, **kwargs):
        if name == "hindsight.analytics.signals":
            raise ImportError("not in this build")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_signals)
    found = find_behaviour(demo, Behaviour("rage_click", "img.product-shot"))   # no cache: computed here
    truth = {p[0] for p in demo.planted("rage_click")}
    precision, recall = precision_recall([m.session_id for m in found], truth)
    assert precision >= 0.9 and recall >= 0.9


# -- export ------------------------------------------------------------------------------------
def _rows(store):
    return ([(b.uid, b.session_id, b.t_ms, b.end_ms, b.tag, b.note, b.created_ms, b.signal_kind, b.selector,
              b.page_url) for b in store.bookmarks()],
            [(p.tag, p.hypothesis, p.impact, p.confidence, p.ease, p.sessions, p.bookmarks) for p in store.patterns()])


def _fill(store):
    store.add(25, 5763, RAGE_TAG, 'clicks, "quoted", | piped\nand on two lines')
    store.add(29, 9963, RAGE_TAG, end_ms=11000)
    store.add(37, 7930, RAGE_TAG, signal_kind="rage_click", selector="img.product-shot")
    store.add(84, 65_000, "phone hesitation", "ünïcödé ✓")
    store.set_pattern(RAGE_TAG, "We observed X. We believe that changing Y will improve Z because W.", 8, 7, 6)


def test_csv_round_trip(demo_copy, demo_master, tmp_path, xdg):
    store = BookmarkStore.for_capture(demo_copy)
    _fill(store)
    out = export(store, tmp_path / "bm.csv")
    empty = BookmarkStore(tmp_path / "empty.sqlite")
    assert empty.bookmarks() == []
    counts = import_csv(empty, out, check=False)
    assert counts == {"bookmarks": 4, "skipped": 0, "patterns": 2}
    assert _rows(empty) == _rows(store)
    assert import_csv(empty, out, check=False)["skipped"] == 4  # importing twice adds nothing
    assert _rows(empty) == _rows(store)
    assert to_csv(empty) == to_csv(store)


def test_markdown_report(demo_copy, xdg):
    store = BookmarkStore.for_capture(demo_copy)
    _fill(store)
    md = to_markdown(store)
    assert md.startswith("# Patterns in demo.sqlite")
    assert f"## {RAGE_TAG} ⚑" in md and "**worth a hypothesis**" in md
    assert "- **ICE:** 7.0 (impact 8, confidence 7, ease 6)" in md
    assert "## phone hesitation\n" in md and "not rated" in md
    assert f"| 25 | 1:05 |" not in md and "| 25 | 0:05 | clicks, \"quoted\", \\| piped and on two lines |" in md
    assert "| 29 | 0:09–0:11 |" in md and "| 84 | 1:05 |" in md
    assert f"`hindsight frame {demo_copy} --session 25 --at 5763 -o bookmark-1.png`" in md
    assert md.index(RAGE_TAG) < md.index("phone hesitation")
    assert format_time(3_725_000) == "1:02:05"


# -- command line ------------------------------------------------------------------------------
def test_cli(demo_copy, tmp_path, xdg, capsys):
    f = str(demo_copy)
    before = recorded_digest(demo_copy)
    assert cli_main(["bookmarks", f]) == 0
    assert "no bookmarks" in capsys.readouterr().out
    with open_capture(demo_copy) as cap:
        sid, _, t_ms, *_ = cap.planted("rage_click")[0]
    assert cli_main(["bookmark", "add", f, "--session", str(sid), "--at", str(t_ms), "--tag", RAGE_TAG,
                     "--note", "4 clicks"]) == 0
    assert f"session {sid} at" in capsys.readouterr().out
    assert cli_main(["bookmark", "similar", f, "--id", "1", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["behaviour"]["kind"] == "rage_click" and res["count"] == len(res["matches"]) >= 100
    assert cli_main(["bookmark", "similar", f, "--id", "1", "--add"]) == 0
    assert f"added {res['count'] - 1} bookmarks" in capsys.readouterr().out
    assert cli_main(["bookmark", "hypothesis", f, "--tag", RAGE_TAG, "--text", "We observed X.",
                     "--impact", "8", "--confidence", "6", "--ease", "4"]) == 0
    capsys.readouterr()
    assert cli_main(["bookmarks", f, "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["location"] == "capture"
    assert listing["patterns"][0] == {"tag": RAGE_TAG, "sessions": res["count"], "bookmarks": res["count"],
                                      "worth_a_hypothesis": True, "hypothesis": "We observed X.",
                                      "impact": 8, "confidence": 6, "ease": 4, "ice": 6.0}
    assert cli_main(["bookmarks", f]) == 0
    assert "⚑" in capsys.readouterr().out
    for fmt in ("md", "csv"):
        out = tmp_path / f"report.{fmt}"
        assert cli_main(["bookmarks", "export", f, "--format", fmt, "-o", str(out)]) == 0
        assert out.stat().st_size > 1000
    assert recorded_digest(demo_copy) == before


@pytest.mark.parametrize("argv, message", [
    (["bookmark", "add", "{f}", "--session", "999999", "--at", "0", "--tag", "x"], "has no session 999999"),
    (["bookmark", "add", "{f}", "--session", "25", "--at", "99999999", "--tag", "x"], "past the end"),
    (["bookmark", "similar", "{f}", "--id", "42"], "no bookmark 42"),
    (["bookmark", "hypothesis", "{f}", "--tag", "x", "--ease", "11"], "argument --ease: must be between 1 and 10, not 11"),
    (["bookmarks", "export", "{f}", "-o", "{tmp}/out.txt"], "--format md or csv"),
    (["bookmarks", "export", "{f}", "--format", "md", "-o", "{tmp}/nope/out.md"], "does not exist"),
    (["bookmarks", "{tmp}/missing.sqlite"], "no such file"),
    (["bookmark"], "needs an action"),
])
def test_cli_errors_are_one_line_exit_2(demo_copy, tmp_path, xdg, capsys, argv, message):
    argv = [a.format(f=demo_copy, tmp=tmp_path) for a in argv]
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and err.startswith("hindsight: error: ")


def test_find_similar_is_vectorised_over_the_capture(demo):
    """One signal table per capture, reused by every search (the speed comes from this)."""
    from hindsight.bookmarks.similar import capture_signals

    cache: dict = {}   # the app passes its workspace's per-capture cache
    first = capture_signals(demo, cache)
    assert capture_signals(demo, cache) is first
    assert capture_signals(demo) is not first   # no module-level memory
    assert isinstance(first.session_id, np.ndarray) and first.session_id.size > 500


def test_cli_export_import_between_copies(demo_copy, demo_master, tmp_path, xdg, capsys):
    import shutil

    store = BookmarkStore.for_capture(demo_copy)
    _fill(store)
    out = tmp_path / "bm.csv"
    assert cli_main(["bookmarks", "export", str(demo_copy), "-o", str(out)]) == 0
    other = tmp_path / "other" / "demo.sqlite"
    other.parent.mkdir()
    shutil.copyfile(demo_master, other)
    assert cli_main(["bookmarks", "import", str(other), "-i", str(out)]) == 0
    assert "imported 4 bookmarks (0 already there), 2 patterns" in capsys.readouterr().out
    assert _rows(BookmarkStore.for_capture(other)) == _rows(store)
    assert cli_main(["bookmarks", "import", str(other), "-i", str(tmp_path / "none.csv")]) == 2
