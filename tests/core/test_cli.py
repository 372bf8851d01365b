"""The command line: info, sessions, demo, bench and its error handling (one line, non-zero exit)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hindsight.cli import main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hindsight.cli", *args], capture_output=True, text=True)


def test_info_json_counts(demo_master, capsys):
    assert main(["info", str(demo_master), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["format"] == "hindsight-capture" and info["format_version"] == 2
    assert info["sessions"] == 2000
    assert info["pages"] == 2 and info["snapshots"] == 6
    assert sum(info["devices"].values()) == 2000
    assert info["events"] > 100_000
    assert info["first_session_ms"] < info["last_session_end_ms"]


def test_info_text(demo_master, capsys):
    assert main(["info", str(demo_master)]) == 0
    out = capsys.readouterr().out
    assert "sessions         2,000" in out
    assert "https://demo.hindsight.local/signup" in out


def test_sessions_filters(demo, demo_master, capsys):
    assert main(["sessions", str(demo_master), "--device", "mobile", "--converted", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    expected = demo._con.execute("SELECT count(*) FROM sessions WHERE device='mobile' AND converted=1").fetchone()[0]
    assert data["count"] == expected > 0
    assert all(r["device"] == "mobile" and r["converted"] for r in data["sessions"])
    assert main(["sessions", str(demo_master), "--not-converted", "--min-duration", "60", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["count"] > 0
    assert all(r["duration_ms"] >= 60_000 and not r["converted"] for r in data["sessions"])
    assert main(["sessions", str(demo_master), "--limit", "5"]) == 0
    out = capsys.readouterr().out
    assert out.strip().endswith("2,000 sessions (showing 5)")


def test_sessions_visited_but_not(demo_master, capsys):
    args = ["sessions", str(demo_master), "--visited", "https://demo.hindsight.local/signup",
            "--not-converted", "--json"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["count"] > 0
    assert all(r["exit_page"] or r["entry_page"] for r in data["sessions"])


@pytest.mark.parametrize("content, needle", [
    (b"not a database at all", "is not a SQLite database"),
    (b"", "is empty"),
])
def test_bad_file_one_line_nonzero(tmp_path, content, needle):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(content)
    proc = run("info", str(bad))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and str(bad) in lines[0]
    assert "Traceback" not in proc.stderr


def test_missing_file(tmp_path):
    proc = run("sessions", str(tmp_path / "nope.sqlite"))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "no such file" in proc.stderr


def test_demo_command_writes_capture(tmp_path, capsys):
    out = tmp_path / "d.sqlite"
    assert main(["demo", "--out", str(out), "--sessions", "25", "--seed", "2", "--no-open"]) == 0
    assert "25 sessions" in capsys.readouterr().out
    assert main(["info", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sessions"] == 25


def test_bench_runs_small(tmp_path, capsys):
    assert main(["bench", "--sessions", "200", "--only", "store", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["demo.generate"]["sessions"] == 200
    assert res["store.open"]["sessions_listed"] == 200
    assert res["store.write"]["write_events_per_s"] > 0
    assert res["store.clicks"]["clicks_loaded"] > 0


def test_version():
    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("hindsight ")


def test_unknown_command_is_not_taken_for_a_file():
    proc = run("nosuch")
    assert proc.returncode == 2
    assert "'nosuch' is neither a command nor a file" in proc.stderr and "sessions" in proc.stderr


def test_opening_the_app_without_a_display_is_one_line(demo_master, monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert main([str(demo_master)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no display" in err and "xvfb-run" in err


def test_demo_again_keeps_the_file_and_its_bookmarks(tmp_path, capsys):
    out = tmp_path / "d.sqlite"
    assert main(["demo", "--out", str(out), "--sessions", "12", "--no-open"]) == 0
    assert main(["bookmark", "add", str(out), "--session", "1", "--at", "500", "--tag", "keep me"]) == 0
    before = out.stat().st_mtime_ns
    capsys.readouterr()
    assert main(["demo", "--out", str(out), "--sessions", "12", "--no-open"]) == 0
    assert "already holds this demo" in capsys.readouterr().out
    assert out.stat().st_mtime_ns == before
    assert main(["bookmarks", str(out), "--json"]) == 0
    assert "keep me" in capsys.readouterr().out
    assert main(["demo", "--out", str(out), "--sessions", "13", "--no-open"]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert main(["demo", "--out", str(out), "--sessions", "13", "--force", "--no-open"]) == 0


@pytest.mark.parametrize("args, needle", [
    (["--device", "Mobile"], "no session has device 'Mobile' (did you mean 'mobile'?)"),
    (["--country", "XX"], "no session has country 'XX'"),
    (["--visited", "/sign-up"], "no page '/sign-up' (no URL matches the pattern)"),  # a path is a pattern
    (["--min-duration", "60", "--max-duration", "10"], "minimum duration 60 s is more than the maximum 10 s"),
    (["--frustration", "nope"], "unknown frustration signal 'nope'"),
    (["--from", "2026-13-01"], "not a date"),
    (["--abandoned-at", "nofield"], "--abandoned-at 'nofield': the form's fields are"),
])
def test_filter_typos_are_errors_not_empty_lists(demo_master, capsys, args, needle):
    assert main(["sessions", str(demo_master), *args]) == 2
    assert needle in capsys.readouterr().err


def test_sessions_newest_first_by_default(demo_master, capsys):
    assert main(["sessions", str(demo_master), "--json", "--limit", "50"]) == 0
    starts = [r["start_ms"] for r in json.loads(capsys.readouterr().out)["sessions"]]
    assert starts == sorted(starts, reverse=True)
    assert main(["sessions", str(demo_master), "--json", "--limit", "50", "--oldest-first"]) == 0
    starts = [r["start_ms"] for r in json.loads(capsys.readouterr().out)["sessions"]]
    assert starts == sorted(starts)


def test_json_file_opened_as_a_capture_points_to_import(tmp_path):
    f = tmp_path / "rec.json"
    f.write_text('[{"type": 4, "data": {}, "timestamp": 1}]')
    proc = run("info", str(f))
    assert proc.returncode == 2 and "hindsight import rrweb" in proc.stderr


def test_cli_filters_like_the_app_frustration_dates_abandoned(demo_master, demo, capsys):
    """`hindsight sessions` resolves frustration kinds, dates and the abandoned-at field with the
    Workspace's rules: the same sessions the app's filter keeps."""
    from hindsight.workspace import Workspace, build_filter

    ws = Workspace(demo)
    ws.set_signal_index(ws.compute_signal_index())
    report = ws.compute_form_report()
    ws.set_form_report(report)
    field = max(report.fields, key=lambda f: f.dropoff).name
    ws.set_filter(build_filter(device=["desktop"], frustration=["dead_click", "rage_click"], abandoned_at=field))
    want = sorted(ws.visible_session_ids().tolist())
    assert want
    assert main(["sessions", str(demo_master), "--device", "desktop", "--frustration", "dead_click",
                 "--frustration", "rage_click", "--abandoned-at", field, "--json", "--limit", "100000"]) == 0
    got = sorted(r["session_id"] for r in json.loads(capsys.readouterr().out)["sessions"])
    assert got == want
    first_day = min(demo.session_table()["start_ms"]) // 86_400_000 * 86_400_000
    from datetime import datetime, timezone

    day = datetime.fromtimestamp(first_day / 1000, tz=timezone.utc).date().isoformat()
    assert main(["sessions", str(demo_master), "--from", day, "--to", day, "--json", "--limit", "100000"]) == 0
    rows = json.loads(capsys.readouterr().out)["sessions"]
    assert rows and all(first_day <= r["start_ms"] < first_day + 86_400_000 for r in rows)
