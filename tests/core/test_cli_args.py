"""Bad numbers, ids, dates and output paths on the command line: one line on stderr, exit 2,
before any work starts (the shared types in ``hindsight.cli.args``)."""

from __future__ import annotations

import argparse
import os
import shlex

import pytest

from hindsight.cli import main
from hindsight.cli.args import MAX_ID, date_ms, finite_float, output_path, session_id

BIG = str(2**64)


# {c} = a capture, {out} = an empty folder, {ro} = a chmod 555 folder (read-only, also for root)
CASES = [
    ("sessions {c} --min-duration nan", "argument --min-duration: 'nan' is not a finite number"),
    ("sessions {c} --min-duration inf", "'inf' is not a finite number"),
    ("sessions {c} --max-duration -5", "argument --max-duration: must be 0 or more, not -5"),
    ("sessions {c} --limit -1", "argument --limit: must be 0 or more"),
    ("sessions {c} --limit 1e3", "'1e3' is not a whole number"),
    ("signals {c} --top -2", "argument --top: must be 0 or more"),
    ("signals {c} --min-duration NaN", "is not a finite number"),
    ("frame {c} --session 1 --at nan -o {out}/f.png", "argument --at: 'nan' is not a finite number"),
    ("frame {c} --session 1 --at -1 -o {out}/f.png", "argument --at: must be 0 or more"),
    ("frame {c} --session %s -o {out}/f.png" % BIG, f"{BIG} is not a session id"),
    ("frame {c} --session -1 -o {out}/f.png", "-1 is not a session id"),
    ("frame {c} --session 1 -o {out}", "is a folder"),
    ("frame {c} --session 1 -o ''", "argument -o/--out: an empty path"),
    ("frame {c} --session 1 -o {out}/f.png --width 10", "must be between 320 and 8000"),
    ("heatmap {c} --page x -o {out}/missing/h.png", "does not exist"),
    ("heatmap {c} --page x -o /proc/hindsight-heatmap.png", "is not writable"),
    ("heatmap {c} --page x -o {ro}/h.png", "is not writable"),
    ("heatmap {c} --page x -o {out}/", "is a folder"),
    ("heatmap {c} --page x --json --opacity nan", "argument --opacity: 'nan' is not a finite number"),
    ("heatmap {c} --page x --json --opacity 2", "must be between 0 and 1"),
    ("bookmark add {c} --session %s --at 0 --tag t" % BIG, "is not a session id"),
    ("bookmark add {c} --session 1 --at inf --tag t", "argument --at: 'inf' is not a finite number"),
    ("bookmark add {c} --session 1 --at 0 --end nan --tag t", "argument --end"),
    ("bookmark similar {c} --id %s" % BIG, f"{BIG} is not an id"),
    ("bookmark delete {c} --id -4", "-4 is not an id"),
    ("bookmark hypothesis {c} --tag t --impact 11", "must be between 1 and 10"),
    ("bookmarks export {c} -o {out}", "is a folder"),
    ("bookmarks export {c} -o ''", "an empty path"),
    ("delete {c} --before 2024-13-01 --yes", "'2024-13-01' is not a date"),
    ("delete {c} --before '' --yes", "is not a date"),
    ("delete {c} --before 1066-10-14 --yes", "outside the years 1990-2200"),
    ("delete {c} --visitor '' --yes", "an empty visitor id"),
    ("demo --out {out} --no-open", "is a folder"),
    ("demo --out {out}/d.sqlite --sessions 0 --no-open", "must be 1 or more"),
    ("import rrweb x.json --out {out}/i.sqlite --max-file-mb nan", "is not a finite number"),
    ("import rrweb x.json --out ''", "an empty path"),
    ("collect {c} --port 70000", "must be between 0 and 65535"),
    ("recover {c} --out {out}", "is a folder"),
    ("bench --sessions -1", "must be 1 or more"),
]


@pytest.fixture
def places(tmp_path, demo_master):
    out, ro = tmp_path / "out", tmp_path / "ro"
    out.mkdir()
    ro.mkdir()
    ro.chmod(0o555)
    yield {"c": str(demo_master), "out": str(out), "ro": str(ro)}
    ro.chmod(0o755)
    assert os.listdir(out) == []   # nothing was written


@pytest.mark.parametrize("argv, needle", CASES, ids=[c[0].split(" --", 1)[-1][:40] for c in CASES])
def test_bad_argument_is_one_line_exit_2(places, capsys, argv, needle):
    code = main([a.format(**places) for a in shlex.split(argv)])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert needle in err
    assert "\n" not in err and "Traceback" not in err
    assert err.startswith("hindsight: error: ")


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
