"""Fuzzing the read commands with damaged captures: every run ends in success or one exit-2 line.

Damaged copies come from ``capture_damage.damage`` (byte flips, truncations, page corruption,
SQL-level damage). Each is run through every read command in-process (``cli.main``), and the
output is checked for impossible values (negative counts or durations, NaN, infinity).
The default run takes a deterministic sample; ``pytest -m slow`` runs 420 captures x every
command (plus ``frame`` on a sample, in a subprocess since it needs Qt).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from hindsight.cli import main as cli_main

sys.path.insert(0, str(Path(__file__).parent))
from capture_damage import KINDS, damage  # noqa: E402

HOME = "https://demo.hindsight.local/"
SIGNUP = "https://demo.hindsight.local/signup"
HEATMAP_KINDS = ("click", "move", "scroll", "attention", "rage", "dead")


def commands(path: str, out_png: str) -> list[list[str]]:
    """Every read command (``hindsight --help``) on ``path``; heatmaps of each kind."""
    cmds = [["info", path], ["info", path, "--json"], ["sessions", path], ["sessions", path, "--json"],
            ["signals", path, "--json"], ["signals", path], ["forms", path, "--json"], ["forms", path],
            ["funnel", path, "--step", HOME, "--step", SIGNUP, "--step", "event:signup_completed", "--json"],
            ["bookmarks", path], ["bookmarks", path, "--json"], ["bookmark", "similar", path, "--id", "1", "--json"],
            ["check", path]]
    cmds += [["heatmap", path, "--page", HOME if k != "scroll" else SIGNUP, "--kind", k, "--json"]
             for k in HEATMAP_KINDS]
    cmds += [["heatmap", path, "--page", HOME, "--kind", "scroll", "-o", out_png]]
    return cmds


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli_main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


# -- impossible values --------------------------------------------------------------------------

#: JSON keys whose numbers may be negative (positions, "none" markers, differences).
SIGNED_KEYS = {"x", "y", "element", "levels", "delta", "diff", "value", "t_ms", "change"}
_NEG_TEXT = re.compile(r"(?:sessions|pageviews|events|clicks|signals)\s+-\d|\s-\d+:\d\d\b|\bnan\b|\binf\b",
                       re.IGNORECASE)


def impossible_values(stdout: str, stderr: str) -> list[str]:
    """Impossible numbers in a command's output: NaN / inf anywhere, negative counts or durations."""
    problems = []
    text = stdout + stderr
    m = _NEG_TEXT.search(text)
    if m:
        problems.append(f"text: {text[max(0, m.start() - 40):m.end() + 20]!r}")
    stripped = stdout.strip()
    if stripped.startswith(("{", "[")):
        try:
            doc = json.loads(stripped, parse_constant=lambda c: float("nan"))
        except ValueError:
            return problems
        _walk(doc, "", problems)
    return problems


def _walk(obj, key: str, problems: list[str]) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            _walk(v, str(k), problems)
    elif isinstance(obj, list):
        for v in obj:
            _walk(v, key, problems)
    elif isinstance(obj, float) and not math.isfinite(obj):
        problems.append(f"{key} = {obj}")
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool) and obj < 0 and key not in SIGNED_KEYS:
        problems.append(f"{key} = {obj}")


def check_run(argv: list[str]) -> str:
    """Run one command; assert success or one exit-2 line and no impossible values; returns the outcome."""
    code, out, err = run_cli(argv)
    assert code in (0, 2), f"{argv}: exit {code}: {err.strip()[:300]}"
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("hindsight: error: "), f"{argv}: {err!r}"
        assert "Traceback" not in err
        return "error"
    problems = impossible_values(out, err)
    assert not problems, f"{argv}: impossible values {problems}"
    if argv[0] == "check":
        return "check-clean" if "no problems found" in out else "check-problems"
    return "skipped" if "damaged events skipped" in err else "ok"


# -- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fuzz_master(tmp_path_factory) -> Path:
    """A small demo capture (60 sessions) with one bookmark: the undamaged original."""
    from hindsight.demo.generate import generate_demo

    path = tmp_path_factory.mktemp("fuzz") / "master.sqlite"
    generate_demo(path, sessions=60, seed=3)
    code, _, err = run_cli(["bookmark", "add", str(path), "--session", "1", "--at", "1500", "--tag", "fuzz"])
    assert code == 0, err
    return path


def _fuzz(master: Path, tmp: Path, indices, every_command: bool, stats: Counter) -> int:
    runs = 0
    png = str(tmp / "out.png")
    for i in indices:
        path = tmp / f"damaged_{i}.sqlite"
        for suffix in ("", ".hindsight-bookmarks", ".hindsight-cache", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        damage(master, path, i)
        cmds = commands(str(path), png)
        if not every_command:
            cmds = [cmds[(i * 5 + j) % len(cmds)] for j in range(2)]
        for argv in cmds:
            outcome = check_run(argv)
            stats[(KINDS[i % len(KINDS)], outcome)] += 1
            stats[outcome] += 1
            runs += 1
        path.unlink()
    return runs


def _report(stats: Counter, runs: int, captures: int) -> str:
    outcomes = {k: v for k, v in stats.items() if isinstance(k, str)}
    return f"{captures} damaged captures, {runs} runs: {dict(sorted(outcomes.items()))}"


def test_undamaged_master_is_clean(fuzz_master, tmp_path):
    for argv in commands(str(fuzz_master), str(tmp_path / "o.png")):
        code, out, err = run_cli(argv)
        assert code == 0, (argv, err)
        assert not impossible_values(out, err), argv
        assert "damaged" not in err, argv
    code, out, _ = run_cli(["check", str(fuzz_master)])
    assert code == 0 and "no problems found" in out


def test_impossible_value_detector_catches_what_the_probe_saw():
    assert impossible_values("  events    -253,300\n", "")
    assert impossible_values('{"duration_ms": -5}', "")
    assert impossible_values('{"median_s": NaN}', "")
    assert impossible_values("1  2025-01-01 00:00  -0:05  desktop", "")
    assert not impossible_values('{"x": -1, "sessions": 3}', "")


def test_fuzz_damaged_captures_sample(fuzz_master, tmp_path):
    """~200 runs: 100 damaged captures x 2 commands, rotating over damage kinds and commands."""
    stats: Counter = Counter()
    runs = _fuzz(fuzz_master, tmp_path, range(100), every_command=False, stats=stats)
    print(_report(stats, runs, 100))
    assert runs == 200
    assert stats["error"] > 0 and stats["ok"] + stats["skipped"] > 0


@pytest.mark.slow
def test_fuzz_damaged_captures_every_command(fuzz_master, tmp_path, request):
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("slow: run with pytest -m slow")
    stats: Counter = Counter()
    n = 420
    runs = _fuzz(fuzz_master, tmp_path, range(1000, 1000 + n), every_command=True, stats=stats)
    print(_report(stats, runs, n))
    for kind in dict.fromkeys(KINDS):
        print(f"  {kind:9s}", {o: stats[(kind, o)] for o in ("ok", "skipped", "error", "check-clean",
                                                           "check-problems") if stats[(kind, o)]})
    assert runs >= 400 * len(commands("x", "y"))


def _frame(path: Path, png: Path) -> tuple[int, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    p = subprocess.run([sys.executable, "-m", "hindsight.cli", "frame", str(path), "--session", "1", "--at", "2000",
                        "-o", str(png), "--width", "400", "--height", "320"],
                       capture_output=True, text=True, env=env, timeout=120)
    return p.returncode, p.stderr


FRAME_CAPTURES = 420


@pytest.mark.slow
def test_fuzz_frame_command(fuzz_master, tmp_path, request):
    """``frame`` (needs Qt, so a subprocess each: a crash cannot hide) on 420 damaged captures."""
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("slow: run with pytest -m slow")
    pytest.importorskip("PySide6")
    code, err = _frame(fuzz_master, tmp_path / "master.png")
    assert code == 0, err   # the undamaged capture renders
    outcomes: Counter = Counter()
    for i in range(2000, 2000 + FRAME_CAPTURES):
        path = tmp_path / f"f{i}.sqlite"
        damage(fuzz_master, path, i)
        code, err = _frame(path, tmp_path / "f.png")
        assert code in (0, 2), (i, err[-500:])
        if code == 2:
            assert len(err.strip().splitlines()) == 1, err
        outcomes[code] += 1
    print(f"frame: {FRAME_CAPTURES} damaged captures: {dict(outcomes)}")
    assert outcomes[0] > 0 and outcomes[2] > 0
