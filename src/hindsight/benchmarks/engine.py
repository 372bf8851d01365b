"""The Dask engine on a dataset: heatmap, signals and forms on a local cluster of 2 workers vs 1,
with the client process's peak RSS (``hindsight bench --only engine``; not in the test run).

The dataset is ``$HINDSIGHT_BENCH_DATASET`` when set (e.g. one written by ``hindsight demo
--dataset DIR --sessions N``), else the bench capture exported next to it.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0   # Linux: KiB


def engine_figures(url: str, workers=(1, 2), repeat: int = 1) -> dict:
    """Seconds of a click heatmap of the first page, all signals and the first form report on
    local clusters of each ``workers`` count, and the client's peak RSS (MB)."""
    from distributed import Client, LocalCluster

    from hindsight.engine.driver import DatasetHeatmaps, open_dataset_capture

    out: dict = {}
    for n in workers:
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=40)
        client = Client(cluster, set_as_default=False)
        try:
            dcap = open_dataset_capture(url, client=client)
            out["partitions"] = len(dcap.days())
            snap = dcap.snapshots()[0].snapshot_id
            DatasetHeatmaps(dcap).compute(snap, "scroll")   # warm-up: workers import, read small tables
            for name, fn in (("click heatmap", lambda: DatasetHeatmaps(dcap).compute(snap, "click")),
                             ("signals", lambda: dcap.signals()),
                             ("forms", lambda: dcap.form_reports())):
                best = None
                for _ in range(repeat):
                    t = time.perf_counter()
                    fn()
                    dt = time.perf_counter() - t
                    best = dt if best is None else min(best, dt)
                out[f"{name} s, {n} worker(s)"] = round(best, 2)
        finally:
            client.close()
            cluster.close()
    for name in ("click heatmap", "signals", "forms"):
        one, two = out.get(f"{name} s, 1 worker(s)"), out.get(f"{name} s, 2 worker(s)")
        if one and two:
            out[f"{name} speed-up 2 vs 1"] = round(one / two, 2)
    out["client peak RSS MB"] = round(_peak_rss_mb(), 1)
    return out


def bench_engine(ctx) -> dict:
    url = os.environ.get("HINDSIGHT_BENCH_DATASET")
    if url:
        return {"dataset": url, **engine_figures(url)}
    from hindsight.dataset.export import export_capture

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "dataset")
        t = time.perf_counter()
        export_capture(ctx.path, out)
        figures = {"export s": round(time.perf_counter() - t, 2)}
        figures.update(engine_figures(out))
        return figures


BENCHMARKS = [("engine (Dask, dataset)", bench_engine)]
