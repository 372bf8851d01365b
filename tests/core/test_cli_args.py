"""Bad numbers, ids, dates and output paths on the command line: one line on stderr, exit 2,
before any work starts (the shared types in ``hindsight.cli.args``)."""

from __future__ import annotations

import argparse
import os

import pytest

from hindsight.cli import main
from hindsight.cli.args import MAX_ID, date_ms, finite_float, output_path, session_id

BIG = str(2**64)


def _cases(tmp_path, cap):
    folder = tmp_path / "out"
    folder.mkdir(exist_ok=True)
    ro = tmp_path / "ro"
    ro.mkdir(exist_ok=True)
    ro.chmod(0o555)
    c = str(cap)
    return [
        (["sessions", c, "--min-duration", "nan"], "argument --min-duration: 'nan' is not a finite number"),
        (["sessions", c, "--min-duration", "inf"], "'inf' is not a finite number"),
        (["sessions", c, "--max-duration", "-5"], "argument --max-duration: must be 0 or more, not -5"),
        (["sessions", c, "--limit", "-1"], "argument --limit: must be 0 or more"),
        (["sessions", c, "--limit", "1e3"], "'1e3' is not a whole number"),
        (["signals", c, "--top", "-2"], "argument --top: must be 0 or more"),
        (["signals", c, "--min-duration", "NaN"], "is not a finite number"),
        (["frame", c, "--session", "1", "--at", "nan", "-o", str(folder / "f.png")], "argument --at: 'nan' is not a finite number"),
        (["frame", c, "--session", "1", "--at", "-1", "-o", str(folder / "f.png")], "argument --at: must be 0 or more"),
        (["frame", c, "--session", BIG, "-o", str(folder / "f.png")], f"{BIG} is not a session id"),
        (["frame", c, "--session", "-1", "-o", str(folder / "f.png")], "-1 is not a session id"),
        (["frame", c, "--session", "1", "-o", str(folder)], "is a folder"),
        (["frame", c, "--session", "1", "-o", ""], "argument -o/--out: an empty path"),
        (["frame", c, "--session", "1", "-o", str(folder / "f.png"), "--width", "10"], "must be between 320 and 8000"),
        (["heatmap", c, "--page", "x", "-o", str(tmp_path / "missing" / "h.png")], "does not exist"),
        (["heatmap", c, "--page", "x", "-o", "/proc/hindsight-heatmap.png"], "is not writable"),
        (["heatmap", c, "--page", "x", "-o", str(ro / "h.png")], "is not writable"),
        (["heatmap", c, "--page", "x", "-o", str(folder) + "/"], "is a folder"),
        (["heatmap", c, "--page", "x", "--json", "--opacity", "nan"], "argument --opacity: 'nan' is not a finite number"),
        (["heatmap", c, "--page", "x", "--json", "--opacity", "2"], "must be between 0 and 1"),
        (["bookmark", "add", c, "--session", BIG, "--at", "0", "--tag", "t"], "is not a session id"),
        (["bookmark", "add", c, "--session", "1", "--at", "inf", "--tag", "t"], "argument --at: 'inf' is not a finite number"),
        (["bookmark", "add", c, "--session", "1", "--at", "0", "--end", "nan", "--tag", "t"], "argument --end"),
        (["bookmark", "similar", c, "--id", BIG], f"{BIG} is not an id"),
        (["bookmark", "delete", c, "--id", "-4"], "-4 is not an id"),
        (["bookmark", "hypothesis", c, "--tag", "t", "--impact", "11"], "must be between 1 and 10"),
        (["bookmarks", "export", c, "-o", str(folder)], "is a folder"),
        (["bookmarks", "export", c, "-o", ""], "an empty path"),
        (["delete", c, "--before", "2024-13-01", "--yes"], "'2024-13-01' is not a date"),
        (["delete", c, "--before", "", "--yes"], "is not a date"),
        (["delete", c, "--before", "1066-10-14", "--yes"], "outside the years 1990-2200"),
        (["demo", "--out", str(folder), "--no-open"], "is a folder"),
        (["demo", "--out", str(folder / "d.sqlite"), "--sessions", "0", "--no-open"], "must be 1 or more"),
        (["import", "rrweb", "x.json", "--out", str(folder / "i.sqlite"), "--max-file-mb", "nan"], "is not a finite number"),
        (["import", "rrweb", "x.json", "--out", ""], "an empty path"),
        (["collect", c, "--port", "70000"], "must be between 0 and 65535"),
        (["recover", c, "--out", str(folder)], "is a folder"),
        (["bench", "--sessions", "-1"], "must be 1 or more"),
    ]


def test_every_bad_argument_is_one_line_exit_2(tmp_path, demo_master, capsys):
    cases = _cases(tmp_path, demo_master)
    try:
        for argv, needle in cases:
            code = main(argv)
            err = capsys.readouterr().err.strip()
            assert code == 2, (argv, code, err)
            assert needle in err, (argv, err)
            assert "\n" not in err and "Traceback" not in err, (argv, err)
            assert err.startswith("hindsight: error: "), (argv, err)
    finally:
        (tmp_path / "ro").chmod(0o755)
    assert os.listdir(tmp_path / "out") == []   # nothing was written by any of them


def test_a_read_only_output_file_is_refused_even_as_root(tmp_path):
    target = tmp_path / "report.csv"
    target.write_text("keep me")
    target.chmod(0o444)
    try:
        with pytest.raises(argparse.ArgumentTypeError, match="read-only"):
            output_path(str(target))
    finally:
        target.chmod(0o644)
    assert output_path(str(target)) == target


def test_good_values_still_parse():
    assert finite_float("-2.5") == -2.5
    assert session_id(str(MAX_ID)) == MAX_ID and session_id("0") == 0
    assert date_ms("2024-05-01") == 1_714_521_600_000
    assert date_ms("2024-05-01T02:00+02:00") == 1_714_521_600_000
    assert date_ms("2024-05-01T00:00:00Z") == 1_714_521_600_000


def test_valid_min_duration_still_filters(demo_master, capsys):
    assert main(["sessions", str(demo_master), "--min-duration", "30", "--limit", "0", "--json"]) == 0
    assert '"count"' in capsys.readouterr().out
