"""``hindsight bench`` sections ``listing.open`` and ``listing.json`` (issue 15): listing the
bench capture's sessions, each figure beside a baseline measured in the same run.

- ``listing.open``: ``open_capture`` + ``session_table`` (through the stored columnar copy,
  ``store/session_columns.py``) against the raw ``SELECT ... fetchall`` of the same columns
  and against the same list read from SQL alone (copy ignored); interleaved rounds, medians of
  wall and CPU seconds; extra peak memory of the list (tracemalloc: numpy's arrays count).
- ``listing.json``: ``hindsight sessions FILE --json`` as a fresh process (wall, CPU, peak RSS),
  against the SQLite shell printing the same columns as JSON (``sqlite3 -json``), when
  installed, and a Python process that only imports the CLI (the start-up floor).
"""

from __future__ import annotations

import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import tracemalloc

from hindsight.store import open_capture
from hindsight.store.session_columns import SESSION_TABLE_COLUMNS


def _timed(fn) -> tuple[float, float]:
    t, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - c


def bench_open_list(ctx) -> dict:
    path = str(ctx.path)

    def ours():
        with open_capture(path) as cap:
            return len(cap.session_table()["session_id"])

    def sql_only():
        with open_capture(path) as cap:
            cap.tables.discard("session_columns")
            return len(cap.session_table()["session_id"])

    def raw():
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return len(con.execute(f"SELECT {', '.join(SESSION_TABLE_COLUMNS)} FROM sessions").fetchall())
        finally:
            con.close()

    with open_capture(path) as cap:
        has_copy = "session_columns" in cap.tables and bool(cap._query("SELECT count(*) FROM session_columns")[0][0])
    fns = {"ours": ours, "raw": raw, "sql_only": sql_only}
    for fn in fns.values():   # warm the page cache
        fn()
    walls: dict[str, list[float]] = {k: [] for k in fns}
    cpus: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(5):
        for name, fn in fns.items():
            w, c = _timed(fn)
            walls[name].append(w)
            cpus[name].append(c)
    w = {k: statistics.median(v) for k, v in walls.items()}
    c = {k: statistics.median(v) for k, v in cpus.items()}
    tracemalloc.start()
    n = ours()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "sessions": n, "copy_stored": has_copy,
        "open_list_s": round(w["ours"], 4), "open_list_cpu_s": round(c["ours"], 4),
        "raw_fetchall_s": round(w["raw"], 4), "raw_fetchall_cpu_s": round(c["raw"], 4),
        "sql_only_s": round(w["sql_only"], 4), "sql_only_cpu_s": round(c["sql_only"], 4),
        "ratio_vs_raw_fetchall": round(w["ours"] / w["raw"], 2),
        "cpu_ratio_vs_raw_fetchall": round(c["ours"] / c["raw"], 2),
        "ratio_vs_sql_only": round(w["ours"] / w["sql_only"], 2),
        "list_peak_mb": round(peak / 2**20, 1),
    }


def _child(cmd: list[str], env: dict | None = None) -> dict:
    """Wall, CPU and peak RSS of one child process (its stdout discarded). Peak RSS through GNU
    ``time`` when installed (``ru_maxrss`` of a child forked from this big process would count
    this process's pages until the child execs)."""
    import tempfile

    gnu_time = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as out:
        full = [gnu_time, "-f", "%M", "-o", out.name] + cmd if gnu_time else cmd
        t = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = time.perf_counter() - t
        rss = float(out.read().strip().splitlines()[-1]) / 1024 if gnu_time else float("nan")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"s": wall, "cpu_s": cpu, "rss_mb": rss}


def _installed_env() -> dict:
    """The environment of an installed app: bytecode cached (a wheel or bundle ships it; a source
    checkout with PYTHONDONTWRITEBYTECODE would compile every module at every start)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", os.path.join(os.path.expanduser("~"), ".cache", "hindsight-bench-pyc"))
    return env


def bench_sessions_json(ctx) -> dict:
    path = str(ctx.path)
    env = _installed_env()
    ours = [sys.executable, "-m", "hindsight.cli", "sessions", path, "--json"]
    floor = [sys.executable, "-c", "import hindsight.cli, hindsight.store"]
    sqlite_cli = shutil.which("sqlite3")
    shell = ([sqlite_cli, "-json", "-readonly", path,
              f"SELECT {', '.join(SESSION_TABLE_COLUMNS)} FROM sessions ORDER BY start_ms DESC"]
             if sqlite_cli else None)
    runs: dict[str, list[dict]] = {"ours": [], "import_floor": []}
    if shell:
        runs["sqlite3_json"] = []
    _child(ours, env)   # warm: bytecode cache and page cache
    for _ in range(3):
        for name, cmd in (("ours", ours), ("import_floor", floor), ("sqlite3_json", shell)):
            if cmd:
                runs[name].append(_child(cmd, env))
    med = {name: {k: statistics.median(r[k] for r in rs) for k in ("s", "cpu_s", "rss_mb")}
           for name, rs in runs.items()}
    out = {
        "sessions_json_s": round(med["ours"]["s"], 3), "sessions_json_cpu_s": round(med["ours"]["cpu_s"], 3),
        "sessions_json_peak_rss_mb": round(med["ours"]["rss_mb"], 1),
        "import_floor_s": round(med["import_floor"]["s"], 3),
        "import_floor_peak_rss_mb": round(med["import_floor"]["rss_mb"], 1),
    }
    if shell:
        out.update({
            "sqlite3_json_s": round(med["sqlite3_json"]["s"], 3),
            "sqlite3_json_cpu_s": round(med["sqlite3_json"]["cpu_s"], 3),
            "sqlite3_json_peak_rss_mb": round(med["sqlite3_json"]["rss_mb"], 1),
            "ratio_vs_sqlite3_json": round(med["ours"]["s"] / med["sqlite3_json"]["s"], 2),
        })
    return out


BENCHMARKS = [("listing.open", bench_open_list), ("listing.json", bench_sessions_json)]
