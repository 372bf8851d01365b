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


def on_bench_dataset(ctx, figures) -> dict:
    """``figures(url)`` of the dataset ``HINDSIGHT_BENCH_DATASET`` names, or else of the bench
    capture exported to a temporary dataset (with the export's seconds)."""
    url = os.environ.get("HINDSIGHT_BENCH_DATASET")
    if url:
        return {"dataset": url, **figures(url)}
    from hindsight.dataset.export import export_capture

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "dataset")
        t = time.perf_counter()
        export_capture(ctx.path, out)
        return {"export s": round(time.perf_counter() - t, 2), **figures(out)}


def bench_engine(ctx) -> dict:
    return on_bench_dataset(ctx, engine_figures)


BENCHMARKS = [("engine (Dask, dataset)", bench_engine)]


# ---------------------------------------------------------------------------------------
# At scale: 100k, 500k and 1M sessions (``hindsight bench --only engine.scale``)
# ---------------------------------------------------------------------------------------

#: Where the big datasets live (built on first use: a 20k-session demo, replicated).
BENCHDATA_ENV = "HINDSIGHT_BENCHDATA"
DATASETS_ENV = "HINDSIGHT_BENCH_DATASETS"
SCALE_SIZES = (100_000, 500_000, 1_000_000)
SOURCE_SESSIONS = 20_000


def _label(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


def scale_datasets(sizes=SCALE_SIZES) -> list[tuple[int, str]]:
    """(sessions, path) of the benchmark datasets: ``$HINDSIGHT_BENCH_DATASETS`` (comma list)
    when set, else ``$HINDSIGHT_BENCHDATA`` (default ``/work/benchdata``)/ds_<size>, built when
    missing by replicating a 20k-session demo dataset (``demo --dataset --replicate-from``)."""
    from hindsight.engine.reader import open_dataset

    listed = os.environ.get(DATASETS_ENV)
    if listed:
        out = []
        for path in filter(None, (p.strip() for p in listed.split(","))):
            ds = open_dataset(path)
            out.append((int(ds.meta.get("capture_meta", {}).get("demo_sessions", 0)) or -1, path))
        return out
    base = os.environ.get(BENCHDATA_ENV, "/work/benchdata")
    source = os.path.join(base, f"ds_{_label(SOURCE_SESSIONS)}_source")
    out = []
    for n in sizes:
        path = os.path.join(base, f"ds_{_label(n)}")
        if not os.path.exists(os.path.join(path, "meta.json")):
            if not os.path.exists(os.path.join(source, "meta.json")):
                from hindsight.dataset.demo import generate_demo_dataset

                generate_demo_dataset(source, SOURCE_SESSIONS, overwrite=True)
            from hindsight.dataset.replicate import replicate_dataset

            replicate_dataset(path, n, source, overwrite=True)
        out.append((n, path))
    return out


def scale_figures(url: str, workers: int, repeat: int = 3) -> dict:
    """In this (fresh) process: a local cluster of ``workers`` processes over dataset ``url``;
    seconds to start it, of the first analysis (workers import the kernels, read the catalog
    and the part files' footers), of a click heatmap of the first screenshot (best of
    ``repeat``), all signals and the first form report; this process's peak RSS (MB)."""
    from distributed import Client, LocalCluster

    from hindsight.engine.driver import DatasetHeatmaps, open_dataset_capture

    out: dict = {}
    t = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=40)
    client = Client(cluster, set_as_default=False)
    out["cluster start s"] = round(time.perf_counter() - t, 2)
    try:
        dcap = open_dataset_capture(url, client=client)
        snaps = dcap.snapshots()
        t = time.perf_counter()
        DatasetHeatmaps(dcap).compute(snaps[-1].snapshot_id, "scroll")
        out["first analysis s"] = round(time.perf_counter() - t, 2)
        for name, fn, n in (("click heatmap", lambda: DatasetHeatmaps(dcap).compute(snaps[0].snapshot_id, "click"),
                             repeat),
                            ("signals", lambda: dcap.signals(), 1),
                            ("forms", lambda: dcap.form_reports(), 1)):
            best = cpu = None
            for _ in range(n):
                before = sum(client.run(time.process_time).values())
                c = time.process_time()
                t = time.perf_counter()
                fn()
                dt = time.perf_counter() - t
                c = time.process_time() - c
                w = sum(client.run(time.process_time).values()) - before
                if best is None or dt < best:
                    best, cpu = dt, (w, c)
            out[f"{name} s"] = round(best, 2)
            # CPU seconds (all worker processes / this client): steadier than wall time on a
            # loaded machine; wall time on an idle one is about workers' CPU / workers + client's
            out[f"{name} CPU s (workers / client)"] = f"{cpu[0]:.2f} / {cpu[1]:.2f}"
            out[f"client peak RSS MB after {name}"] = round(_peak_rss_mb(), 1)
    finally:
        client.close()
        cluster.close()
    out["client peak RSS MB"] = round(_peak_rss_mb(), 1)
    return out


def _child(url: str, workers: int) -> dict:
    """``scale_figures`` in a fresh Python process (a clean peak RSS, a fresh cluster)."""
    import json
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "hindsight.benchmarks.engine", url, str(workers)],
                          capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        raise RuntimeError(f"engine benchmark on {url} failed: {proc.stderr.strip()[-400:]}")
    return json.loads(lines[-1])


def bench_engine_scale(ctx) -> dict:
    from hindsight.engine.reader import open_dataset

    out: dict = {"load average at start": " ".join(f"{x:.1f}" for x in os.getloadavg())}
    rows: dict[int, dict] = {}
    for n, path in scale_datasets():
        ds = open_dataset(path)
        cm = ds.meta.get("capture_meta", {})
        lab = _label(n) if n > 0 else path
        out[f"{lab}: dataset"] = (f"{path} ({'replicated x' + cm['replica_copies'] if 'replica_copies' in cm else 'generated'}"
                                  f", {len(ds.days())} day partitions)")
        rows[n] = {}
        for w in (1, 2):
            fig = _child(path, w)
            rows[n][w] = fig
            for key, value in fig.items():
                out[f"{lab}, {w} worker(s): {key}"] = value
        for name in ("click heatmap s", "signals s", "forms s"):
            one, two = rows[n][1][name], rows[n][2][name]
            out[f"{lab}: {name[:-2]} speed-up 2 vs 1"] = round(one / two, 2) if two else None
    sizes = sorted(k for k in rows if k > 0)
    if len(sizes) >= 2:
        lo = sizes[0]
        for hi in sizes[1:]:
            for name in ("click heatmap s", "signals s", "forms s"):
                a, b = rows[lo][2][name], rows[hi][2][name]
                out[f"{_label(hi)}/{_label(lo)} {name[:-2]} time, 2 workers (sessions x{hi / lo:g})"] = (
                    round(b / a, 2) if a else None)
    out["load average at end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return out


bench_engine_scale.needs_capture = False

BENCHMARKS.append(("engine.scale (Dask, 100k / 500k / 1M-session datasets)", bench_engine_scale))


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(scale_figures(sys.argv[1], int(sys.argv[2]))))
