"""Benchmarks against the brief's targets (not in the default run: ``pytest tests/benchmarks``).

``HINDSIGHT_BENCH_SESSIONS`` sets the capture size (default 100,000 sessions, ~12M events);
``HINDSIGHT_BENCH_CAPTURE`` reuses a capture file between runs.
"""

from __future__ import annotations

import os

import pytest

from hindsight import benchmarks as bench

SESSIONS = int(os.environ.get("HINDSIGHT_BENCH_SESSIONS", "100000"))


@pytest.fixture(scope="module")
def results():
    out = bench.run(sessions=SESSIONS, path=os.environ.get("HINDSIGHT_BENCH_CAPTURE"),
                    report=lambda name, figures: print(name, figures))
    return out


def test_write_rate(results):
    assert results["store.write"]["write_events_per_s"] >= 2_000_000


def test_open_and_list(results):
    assert results["store.open"]["open_and_list_seconds"] < 1.0


def test_click_scan_rate(results):
    assert results["store.clicks"]["clicks_scan_events_per_s"] >= 10_000_000


def test_demo_generation_time(results):
    if "demo.generate" not in results:
        pytest.skip("capture reused")
    assert results["demo.generate"]["seconds"] < 60
