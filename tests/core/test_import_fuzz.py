"""Fuzzing the rrweb importer: mutated real recordings either import or raise CaptureError.

The default run tries ~200 inputs; ``pytest -m slow`` runs the 3,000-input version.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from hindsight.importers.rrweb import parse_json_bytes, parse_session, unwrap
from hindsight.importers.session_writer import SessionWriter
from hindsight.store import CaptureError
from hindsight.store.writer import CaptureWriter

DATA = Path(__file__).resolve().parents[1] / "data" / "rrweb"
BASES = {name: (DATA / name).read_text() for name in ("session_error_rrweb1.json", "session_abandon_rrweb2.json",
                                                      "session_mobile_rrweb2.json")}
STATS = {"ran": 0, "imported": 0, "rejected": 0}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([1e308, -1e308, 2**63, -0.0, 1.5])
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
ops = st.one_of(
    st.tuples(st.just("drop"), st.integers(0, 10_000)),
    st.tuples(st.just("dup"), st.integers(0, 10_000)),
    st.tuples(st.just("swap"), st.integers(0, 10_000), st.integers(0, 10_000)),
    st.tuples(st.just("type"), st.integers(0, 10_000), st.integers(-2, 12)),
    st.tuples(st.just("source"), st.integers(0, 10_000), st.integers(-2, 20)),
    st.tuples(st.just("itype"), st.integers(0, 10_000), st.integers(-1, 12)),
    st.tuples(st.just("set"), st.integers(0, 10_000), st.integers(0, 50), json_values),
    st.tuples(st.just("del"), st.integers(0, 10_000), st.integers(0, 50)),
    st.tuples(st.just("timestamp"), st.integers(0, 10_000), json_values),
    st.tuples(st.just("event"), st.integers(0, 10_000), json_values),
)


def _mutate(events: list, op: tuple) -> None:
    if not events:
        return
    i = op[1] % len(events)
    ev = events[i]
    kind = op[0]
    if kind == "drop":
        del events[i]
    elif kind == "dup":
        events.insert(i, json.loads(json.dumps(ev)))
    elif kind == "swap":
        j = op[2] % len(events)
        events[i], events[j] = events[j], events[i]
    elif kind == "event":
        events[i] = op[2]
    elif not isinstance(ev, dict):
        return
    elif kind == "type":
        ev["type"] = op[2]
    elif kind == "timestamp":
        ev["timestamp"] = op[2]
    elif isinstance(ev.get("data"), dict):
        data = ev["data"]
        if kind == "source":
            data["source"] = op[2]
        elif kind == "itype":
            data["type"] = op[2]
        else:
            # a field of data, or of its first position / node, chosen by index
            targets = [data]
            if isinstance(data.get("positions"), list) and data["positions"] and isinstance(data["positions"][0], dict):
                targets.append(data["positions"][0])
            if isinstance(data.get("node"), dict):
                targets.append(data["node"])
            target = targets[op[2] % len(targets)]
            keys = list(target)
            if not keys:
                return
            key = keys[op[2] % len(keys)]
            if kind == "set":
                target[key] = op[3]
            else:
                del target[key]


def _run_one(text: str, writer: SessionWriter) -> None:
    STATS["ran"] += 1
    try:
        rec = unwrap(parse_json_bytes(text.encode("utf-8", "surrogatepass"), "fuzz.json"), "fuzz.json")
        session = parse_session(rec.events, "fuzz.json", fmt=rec.format)
        writer.write(session)
        STATS["imported"] += 1
    except CaptureError as exc:
        assert str(exc).startswith("fuzz.json") or "fuzz.json" in str(exc)
        assert "\n" not in str(exc)
        STATS["rejected"] += 1


def _fuzz_body(base: str, mutations: list, truncate: int | None, wrap: bool, writer: SessionWriter) -> None:
    events = json.loads(BASES[base])
    for op in mutations:
        _mutate(events, op)
    doc = {"version": "2023-04-28", "data": {"id": "x", "snapshots": events}} if wrap else events
    text = json.dumps(doc)
    if truncate is not None:
        text = text[: truncate % (len(text) + 1)]
    _run_one(text, writer)


def _fuzz_test(max_examples: int):
    @settings(max_examples=max_examples, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(base=st.sampled_from(sorted(BASES)), mutations=st.lists(ops, max_size=8),
           truncate=st.none() | st.integers(0, 200_000), wrap=st.booleans())
    def run(base, mutations, truncate, wrap):
        _fuzz_body(base, mutations, truncate, wrap, run.writer)

    return run


def _with_writer(fn):
    with tempfile.TemporaryDirectory() as tmp:
        cw = CaptureWriter.create(Path(tmp) / "fuzz.sqlite")
        sw = SessionWriter(cw, render=False)
        fn.writer = sw
        try:
            before = STATS["ran"]
            fn()
            ran = STATS["ran"] - before
        finally:
            cw.abort()
    return ran


def test_fuzz_import_never_crashes():
    ran = _with_writer(_fuzz_test(200))
    assert ran >= 200
    print(f"fuzz: {ran} inputs, {STATS['imported']} imported, {STATS['rejected']} rejected with CaptureError")


@pytest.mark.slow
def test_fuzz_import_never_crashes_long(request):
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("slow: run with pytest -m slow")
    ran = _with_writer(_fuzz_test(3000))
    assert ran >= 3000
    print(f"fuzz (long): {ran} inputs, {STATS['imported']} imported, {STATS['rejected']} rejected")


@pytest.mark.parametrize("text", [
    "[", "]", "{}", "null", "[null]", "[[]]", "[{}]", '[{"type": 4}]', '[{"timestamp": 1795453188786}]',
    '[{"type": 4, "timestamp": 1795453188786, "data": null}]',
    '[{"type": 4, "timestamp": 1795453188786, "data": {"href": 5, "width": 1, "height": 1}}]',
    '[{"type": 4, "timestamp": 1795453188786, "data": {"href": "x", "width": 1e308, "height": 1}}]',
    '[{"type": 4, "timestamp": 1795453188786, "data": {"href": "x", "width": 100, "height": 100}},'
    ' {"type": 3, "timestamp": 1795453188787, "data": {"source": 1, "positions": [{"x": "1", "y": [], "timeOffset": 0}]}}]',
    '[{"type": 4, "timestamp": 1795453188786, "data": {"href": "x", "width": 100, "height": 100}},'
    ' {"type": 2, "timestamp": 1795453188787, "data": {"node": {"type": 0, "childNodes": [{"type": 2}]}}}]',
    '[{"type": 4, "timestamp": 1795453188786, "data": {"href": "x", "width": 100, "height": 100}},'
    ' {"type": 3, "timestamp": 9795453188787, "data": {"source": 3, "id": 1, "x": 0, "y": 0}}]',
    "[" * 100_000 + "]" * 100_000,
    '[1' + "0" * 5000 + "]",
    '{"version": 1, "data": {"snapshotsByWindowId": {"a": [1]}}}',
])
def test_hand_picked_bad_inputs(text):
    with tempfile.TemporaryDirectory() as tmp:
        cw = CaptureWriter.create(Path(tmp) / "f.sqlite")
        try:
            _run_one(text, SessionWriter(cw, render=False))
        finally:
            cw.abort()
