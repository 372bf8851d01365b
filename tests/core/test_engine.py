"""The Dask engine on a dataset equals the SQLite capture exactly (issue 16).

The 2,000-session demo is exported once (``hindsight export dataset``: one partition per day
of its month) and analysed on a local cluster of 2 worker processes, created once here.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

from hindsight.analytics.forms import form_reports  # noqa: E402
from hindsight.analytics.funnel import funnel  # noqa: E402
from hindsight.analytics.heatmap import KINDS, HeatmapEngine  # noqa: E402
from hindsight.analytics.signals import compute_signals  # noqa: E402
from hindsight.store.filters import SessionFilter  # noqa: E402


@pytest.fixture(scope="module")
def dcap(dataset_path, cluster):
    from hindsight.engine.driver import open_dataset_capture

    return open_dataset_capture(str(dataset_path), client=cluster)


def _same_heatmap(a, b):
    assert np.array_equal(a.grid, b.grid)
    assert np.array_equal(a.counts, b.counts)
    assert a.sample == b.sample and a.total == b.total and a.levels == b.levels and a.unit == b.unit
    assert a.coverage == b.coverage and a.coverage is not None
    if a.scroll is not None:
        assert np.array_equal(a.scroll.max_bottom, b.scroll.max_bottom)
        assert a.scroll.lines() == b.scroll.lines()


def test_dataset_partitions_and_session_list(dcap, demo):
    assert len(dcap.days()) >= 20   # one task per day
    assert dcap.counts() == demo.counts()
    t = dcap.session_table(order_by="-start_ms")
    ref = demo.session_table(order_by="-start_ms")
    assert all(np.array_equal(t[c], ref[c]) for c in ref)


def test_every_heatmap_equals_the_capture(dcap, demo):
    from hindsight.engine.driver import DatasetHeatmaps

    cap_engine, ds_engine = HeatmapEngine(demo), DatasetHeatmaps(dcap)
    mobile = SessionFilter(device=("mobile",))
    checked = 0
    for snap in demo.snapshots():
        for kind in KINDS:
            _same_heatmap(cap_engine.compute(snap.snapshot_id, kind), ds_engine.compute(snap.snapshot_id, kind))
            checked += 1
        a = cap_engine.compute(snap.snapshot_id, "click", mobile)
        _same_heatmap(a, ds_engine.compute(snap.snapshot_id, "click", mobile))
    assert checked == 6 * len(demo.snapshots()) >= 36
    landing = demo.snapshots()[0].snapshot_id
    assert cap_engine.compute(landing, "click").sample.points > 500   # a real map, not two empty ones
    assert ds_engine.element_table(landing) == cap_engine.element_table(landing)


def test_page_group_across_widths_equals_the_capture(tmp_path, cluster, capsys, monkeypatch):
    """The real rrweb landing page at 1280/1440/1920 px (and a product page): each screenshot's
    maps of the page group, projected through the elements, equal the capture's, coverage too."""
    from pathlib import Path

    from hindsight.analytics.heatmap import choose_snapshot
    from hindsight.analytics.page_groups import capture_groups, heatmap_pages
    from hindsight.cli import main
    from hindsight.dataset.export import export_capture
    from hindsight.engine.driver import DatasetHeatmaps, open_dataset_capture
    from hindsight.store import open_capture

    real = Path(__file__).resolve().parents[1] / "data" / "rrweb_real"
    files = [str(real / f"session_{n}.json") for n in ("landing_1280x800", "landing_1440x900", "landing_1920x1080",
                                                        "landing_390x844", "product_1280x800")]
    cap_path, ds_path = tmp_path / "widths.sqlite", tmp_path / "widths-ds"
    assert main(["import", "rrweb", *files, "--out", str(cap_path)]) == 0
    import sqlite3

    with sqlite3.connect(cap_path) as con:   # one session a day: a partition each, so the combine adds 5 parts
        con.execute("UPDATE sessions SET start_ms = start_ms + session_id * 86400000")
    export_capture(cap_path, str(ds_path))
    with open_capture(cap_path) as cap:
        dcap = open_dataset_capture(str(ds_path), client=cluster)
        assert len(dcap.days()) == 5
        group = capture_groups(cap).resolve("http://www.hindsight.test/landing.html")
        pages = heatmap_pages(group)
        eng, ds = HeatmapEngine(cap, min_sessions=1), DatasetHeatmaps(dcap, min_sessions=1)
        assert ds.screenshots(pages, "desktop") == eng.screenshots(pages, "desktop")
        widths = []
        for width in (1280, 1440, 1920):
            snap = choose_snapshot(cap, eng, group.key, "desktop", width=width, pages=pages)
            for kind in KINDS:
                a = eng.compute(snap.snapshot_id, kind, pages=pages)
                _same_heatmap(a, ds.compute(snap.snapshot_id, kind, pages=pages))
            click = eng.compute(snap.snapshot_id, "click", pages=pages)
            widths.append(click.coverage.widths)
            assert click.coverage.sessions == 3 and click.sample.points > 0
            assert ds.element_table(snap.snapshot_id, pages=pages) == eng.element_table(snap.snapshot_id, pages=pages)
        assert widths[0] == ((1280, 1), (1440, 1), (1920, 1))
        other = choose_snapshot(cap, eng, group.key, "desktop", width=1920, pages=pages).snapshot_id

    # The CLI: the same --page (URL or pattern), --width and --snapshot on both; --state is a capture's only.
    import json

    monkeypatch.setenv("HINDSIGHT_SCHEDULER", cluster.scheduler.address)
    capsys.readouterr()
    for extra in (["--page", "http://www.hindsight.test/landing.html", "--width", "1440"],
                  ["--page", "/landing*", "--snapshot", str(other), "--kind", "move"]):
        outs = []
        for src in (cap_path, ds_path):
            assert main(["heatmap", str(src), *extra, "--json", "--min-sessions", "1"]) == 0
            outs.append(json.loads(capsys.readouterr().out))
        assert outs[1].pop("states") == []   # page states are not exported to datasets
        outs[0].pop("states")
        assert outs[0] == outs[1] and outs[0]["coverage"]["sessions"] >= 1
    assert main(["heatmap", str(ds_path), "--page", "/landing*", "--state", "1", "--json"]) == 2
    assert "not supported on a dataset" in capsys.readouterr().err


def test_signals_forms_funnel_equal_the_capture(dcap, demo):
    a, b = compute_signals(demo), dcap.signals()
    assert len(a) > 100
    for f in fields(a):
        assert np.array_equal(getattr(a, f.name), getattr(b, f.name)), f.name
    flt = SessionFilter(device=("desktop",), converted=False)
    a, b = compute_signals(demo, flt=flt), dcap.signals(flt)
    assert 0 < len(a) and all(np.array_equal(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))

    ra, rb = form_reports(demo), dcap.form_reports(split=True)
    assert ra.keys() == rb.keys() and ra[None].started > 0
    assert all(ra[k].as_dict() == rb[k].as_dict() for k in ra)

    urls = [p.url for p in demo.pages()]
    steps = [urls[0], urls[1]]
    fa, fb = funnel(demo, steps), dcap.funnel(steps)
    assert fa.as_dict() == fb.as_dict() and fa.results[1].sessions > 0
    assert np.array_equal(fa.reached_t, fb.reached_t) and np.array_equal(fa.session_ids, fb.session_ids)


def test_a_worker_killed_during_a_heatmap_gives_the_exact_grid(dcap, demo, cluster):
    from hindsight.engine.driver import DatasetHeatmaps

    pids = cluster.run(os.getpid)
    snap = demo.snapshots()[1].snapshot_id
    box: dict = {}
    thread = threading.Thread(target=lambda: box.setdefault("r", DatasetHeatmaps(dcap).compute(snap, "move")))
    thread.start()
    deadline = time.time() + 60
    while time.time() < deadline and not any(cluster.processing().values()):   # wait until tasks run
        time.sleep(0.01)
    victim = next(iter(pids.values()))
    os.kill(victim, signal.SIGKILL)
    thread.join(240)
    assert "r" in box
    _same_heatmap(HeatmapEngine(demo).compute(snap, "move"), box["r"])
    cluster.wait_for_workers(2, timeout=120)
    assert victim not in cluster.run(os.getpid).values()   # the worker really died (its nanny restarted it)


def test_cli_on_a_dataset_prints_what_it_prints_on_the_capture(dataset_path, demo_master, cluster, capsys,
                                                             monkeypatch):
    from hindsight.cli import main

    monkeypatch.setenv("HINDSIGHT_SCHEDULER", cluster.scheduler.address)
    page = "https://demo.hindsight.local/"
    for argv in (["sessions", "--limit", "20", "--device", "mobile"], ["signals", "--top", "5"],
                 ["sessions", "--frustration", "rage_click", "--abandoned-at", "email", "--limit", "5"],
                 ["forms", "--by-device"], ["funnel", "--step", page, "--step", page + "signup"],
                 ["heatmap", "--page", page, "--kind", "scroll", "--json"], ["info", "--json"]):
        outs = []
        for src in (demo_master, dataset_path):
            assert main([argv[0], str(src), *argv[1:]]) == 0
            outs.append(capsys.readouterr().out.replace(str(src), "SRC"))
        if argv[0] == "info":
            import json

            a, b = (json.loads(o) for o in outs)
            for key in ("format", "format_version", "creator", "masking"):
                a.pop(key), b.pop(key)
            assert a == b
        else:
            assert outs[0] == outs[1], argv
        assert len(outs[0]) > 80


def test_a_dataset_given_as_a_file_url_reads_through_fsspec(dataset_path, demo_master, cluster, capsys,
                                                             monkeypatch):
    """The dataset is a folder or an fsspec URL: ``file://`` goes through the same fsspec path an
    ``s3://`` URL takes (with s3fs installed), on the client and on the workers."""
    from hindsight.cli import main

    monkeypatch.setenv("HINDSIGHT_SCHEDULER", cluster.scheduler.address)
    url = Path(dataset_path).resolve().as_uri()
    assert url.startswith("file:///")
    page = "https://demo.hindsight.local/"
    for argv in (["sessions", "--limit", "20", "--device", "desktop"],
                 ["heatmap", "--page", page, "--kind", "click", "--json"]):
        outs = []
        for src in (demo_master, url):
            assert main([argv[0], str(src), *argv[1:]]) == 0
            outs.append(capsys.readouterr().out.replace(str(src), "SRC"))
        assert outs[0] == outs[1] and len(outs[0]) > 80, argv


def test_unreachable_scheduler_is_one_line_exit_2(dataset_path, capsys):
    from hindsight.cli import main

    assert main(["sessions", str(dataset_path), "--scheduler", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err


def test_bad_datasets_are_one_line(tmp_path, capsys):
    import json

    from hindsight.cli import main

    newer = tmp_path / "newer"
    newer.mkdir()
    (newer / "meta.json").write_text(json.dumps({"format": "hindsight-dataset", "version": 99}))
    assert main(["info", str(newer)]) == 2
    assert "newer Hindsight (dataset version 99" in capsys.readouterr().err
    plain = tmp_path / "plain"
    plain.mkdir()
    assert main(["sessions", str(plain)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a Hindsight dataset (no meta.json)" in err


def test_a_corrupt_partition_is_one_line(dataset_path, tmp_path, cluster, capsys, monkeypatch):
    import shutil

    from hindsight.cli import main

    bad = tmp_path / "bad"
    shutil.copytree(dataset_path, bad)
    day = sorted(p.name for p in (bad / "events").iterdir())[3]
    part = next((bad / "events" / day).glob("*.parquet"))
    part.write_bytes(part.read_bytes()[:200])
    monkeypatch.setenv("HINDSIGHT_SCHEDULER", cluster.scheduler.address)
    assert main(["signals", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"events/{day}/part-" in err and "is a corrupt part file" in err
