"""What the damage checks cost a dataset partition's reads (``engine/validate.py``), against the
same reads without them, measured side by side in one run (``hindsight bench --only dataset.checks``;
not in the test run).

The dataset is ``$HINDSIGHT_BENCH_DATASET`` when set, else the bench capture exported next to it.
Reads run in this process, one day partition after another, as the analyses make them: the
pageviews and every event of the day (signals' ``load_events``), and the pageviews and clicks of
the first screenshot (a click map's read); best of 3 interleaved rounds. The baseline swaps the
checks for no-ops.
"""

from __future__ import annotations

import os
import time


def check_figures(url: str, rounds: int = 3) -> dict:
    from hindsight.engine import reader
    from hindsight.engine.reader import open_dataset

    def no_events_check(part, ev, sids, pvids, columns=None):
        return ev, sids, pvids

    def no_rows_check(*args, **kw):
        return None

    names = ("check_events", "check_pageviews", "check_sessions")
    checked = tuple(getattr(reader, n) for n in names)
    unchecked = (no_events_check, no_rows_check, no_rows_check)

    def read_all(checks):
        for n, fn in zip(names, checks):
            setattr(reader, n, fn)
        ds = open_dataset(url)   # fresh: nothing cached
        snap = ds.snapshots()[0].snapshot_id
        n = 0
        t = time.perf_counter()
        for day in ds.days():
            part = ds.partition(day)
            n += len(part.load_events())                                      # what signals read
            part2 = ds.partition(day)
            part2.snapshot_pageviews(snap)
            n += len(part2.snapshot_events(snap, (1, 2), columns=("x", "y"))[0])   # a click map's read
        return time.perf_counter() - t, n

    best = {"checked": None, "unchecked": None}
    events = 0
    try:
        for _ in range(rounds):
            for name, fns in (("unchecked", unchecked), ("checked", checked)):
                dt, events = read_all(fns)
                best[name] = dt if best[name] is None else min(best[name], dt)
    finally:
        for n, fn in zip(names, checked):
            setattr(reader, n, fn)
    return {"events read": events, "reads without checks s": round(best["unchecked"], 3),
            "reads with checks s": round(best["checked"], 3),
            "checks cost (ratio)": round(best["checked"] / best["unchecked"], 2)}


def bench_checks(ctx) -> dict:
    from hindsight.benchmarks.engine import on_bench_dataset

    return on_bench_dataset(ctx, check_figures)


BENCHMARKS = [("dataset.checks", bench_checks)]

# With $HINDSIGHT_BENCH_DATASET the bench needs no capture of its own.
bench_checks.needs_capture = not os.environ.get("HINDSIGHT_BENCH_DATASET")
