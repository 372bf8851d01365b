"""CLI: an unknown funnel event is named, not counted as zero; --since / --until (issue 13, defect 8)."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

from hindsight.cli import main


def started_between(capture, first, last):
    """Ids of the sessions that started from day ``first`` to day ``last`` (UTC), sorted."""
    table = capture.session_table()
    days = [datetime.fromtimestamp(int(ms) / 1000, tz=timezone.utc).date() for ms in table["start_ms"]]
    return sorted(int(i) for i, d in zip(table["session_id"], days) if first <= d <= last)


def test_funnel_with_an_unknown_event_names_the_known_ones(demo_master, capsys):
    assert main(["funnel", str(demo_master), "--step", "event:nosuch"]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    lines = out.err.strip().splitlines()
    assert len(lines) == 1
    assert "'nosuch'" in lines[0] and "signup_completed" in lines[0]
    assert main(["funnel", str(demo_master), "--step", "event:signup_completed"]) == 0


def test_cli_since_until(demo_master, demo, capsys):
    capture = demo
    first, last = date(2025, 11, 1), date(2025, 11, 7)
    assert main_json(["sessions", str(demo_master), "--since", "2025-11-01", "--until", "2025-11-07", "--json"],
                     capsys) == started_between(capture, first, last)
    assert main_json(["sessions", str(demo_master), "--since", "2025-11-01", "--json"], capsys) \
        == started_between(capture, first, date(2100, 1, 1))
    assert main(["sessions", str(demo_master), "--since", "2025-11-08", "--until", "2025-11-01"]) == 2
    assert "after the end date" in capsys.readouterr().err


def main_json(argv, capsys):
    assert main(argv) == 0
    return sorted(r["session_id"] for r in json.loads(capsys.readouterr().out)["sessions"])
