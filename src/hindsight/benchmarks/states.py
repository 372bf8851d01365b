"""``hindsight bench --only states``: what page states cost at import (issue 12).

Three measurements, each against a baseline run side by side in the same process:

``states.import`` (needs Chromium)
    each real recording of ``tests/data/rrweb_real`` that has DOM changes, imported with
    Chromium twice: page states on, and off (baseline: the same import with the state hook
    doing nothing). Per recording: wall seconds both ways and the states' own time
    (``StateStats.seconds``: mutation replay, HTML, hashing and rendering).
``states.mutations`` (needs Chromium)
    the states recording with 2,000 more visible mutations appended (a dialog opened and
    closed, a status text changed; 400 ms apart): the states' time per 1,000 mutations. Most
    of those changes repeat a stored state or pass the per-pageview bound; past ``MAX_CHANGES``
    visible changes the rest is not replayed: this is the replay + HTML + hash cost of 64
    changes plus at most ``MAX_STATES`` renders, spread over the 2,000 mutations.
``states.no_chromium``
    a 200,000-event synthetic recording (``importers.synthetic_recording``) imported without
    Chromium with the state hook on and off: the ratio shows that an import without Chromium
    is not slowed down (states are not even looked for then).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

_FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "data" / "rrweb_real"
_RECORDINGS = ("session_spa_plain_1280x800.json", "session_spa_posthog_1280x800.json",
               "session_spa_touch_390x844.json", "session_states_1280x800.json")


def _import(paths, out: Path, render: bool, states: bool):
    from hindsight.importers import session_writer
    from hindsight.importers.session_writer import import_files

    saved = session_writer.SessionWriter._write_states
    if not states:
        session_writer.SessionWriter._write_states = lambda self, *a, **k: None
    try:
        t0 = time.perf_counter()
        cpu = time.process_time()
        report = import_files(paths, out, render=render, overwrite=True)
        return report, time.perf_counter() - t0, time.process_time() - cpu
    finally:
        session_writer.SessionWriter._write_states = saved


def _chromium() -> bool:
    from hindsight.importers.render_dom import find_chromium

    return find_chromium() is not None and _FIXTURES.is_dir()


def bench_states_import(ctx) -> dict:
    if not _chromium():
        return {"skipped": "needs Chromium and tests/data/rrweb_real"}
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in _RECORDINGS:
            src = _FIXTURES / name
            if not src.exists():
                continue
            base, t_base, _ = _import([src], Path(tmp) / "a.sqlite", True, False)
            rep, t_on, _ = _import([src], Path(tmp) / "b.sqlite", True, True)
            key = name.removeprefix("session_").removesuffix(".json")
            st = rep.states
            out[f"{key}.mutations"] = st.get("mutations", 0)
            out[f"{key}.states_rendered"] = st.get("rendered", 0)
            out[f"{key}.seconds_states_off"] = round(t_base, 2)
            out[f"{key}.seconds_states_on"] = round(t_on, 2)
            out[f"{key}.states_seconds"] = round(st.get("seconds", 0.0), 2)
    return out


def _many_mutations(n: int) -> list:
    ev = json.loads((_FIXTURES / "session_states_1280x800.json").read_text())
    full = next(e for e in ev if e["type"] == 2)
    ids: dict[str, int] = {}
    stack = [full["data"]["node"]]
    while stack:
        node = stack.pop()
        ident = (node.get("attributes") or {}).get("id")
        if isinstance(ident, str):
            ids[ident] = node["id"]
        stack.extend(node.get("childNodes") or [])
    t = ev[-1]["timestamp"]
    nid = 100_000
    last = 0
    for k in range(n):
        t += 400
        if k % 2 == 0:  # the dialog: open / closed
            d = {"source": 0, "texts": [], "removes": [], "adds": [],
                 "attributes": [{"id": ids["changes-modal"], "attributes": {"hidden": "" if k % 4 else None}}]}
        else:           # the status text: ``textContent = ...`` replaces its text node
            nid += 1
            d = {"source": 0, "texts": [], "attributes": [],
                 "removes": [{"parentId": ids["tip"], "id": last}] if last else [],
                 "adds": [{"parentId": ids["tip"], "nextId": None,
                           "node": {"type": 3, "textContent": f"Tip {k % 7}", "id": nid}}]}
            last = nid
        ev.append({"type": 3, "data": d, "timestamp": t})
    return ev


def bench_states_mutations(ctx) -> dict:
    if not _chromium():
        return {"skipped": "needs Chromium and tests/data/rrweb_real"}
    from hindsight.importers import rrweb as rr
    from hindsight.importers.states import find_changes

    events = _many_mutations(2000)
    pv = rr.parse_session(json.loads(json.dumps(events))).pageviews[0]
    marks = {el.node_id: i for i, el in enumerate(pv.dom.elements)}
    t0 = time.process_time()
    found = find_changes(pv.dom._root, pv.mutations, marks, max_changes=10**9)  # replay only, no bound
    replay_all = time.process_time() - t0
    t0 = time.process_time()
    find_changes(pv.dom._root, pv.mutations, marks)
    replay_bounded = time.process_time() - t0
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "many.json"
        src.write_text(json.dumps(events))
        base, t_base, _ = _import([src], Path(tmp) / "a.sqlite", True, False)
        rep, t_on, _ = _import([src], Path(tmp) / "b.sqlite", True, True)
    st = rep.states
    muts = max(st.get("mutations", 0), 1)
    return {
        "mutations": st.get("mutations", 0), "visible_changes_examined": st.get("changes", 0),
        "states_rendered": st.get("rendered", 0), "over_bound": st.get("over_bound", 0),
        "seconds_states_off": round(t_base, 2), "seconds_states_on": round(t_on, 2),
        "states_seconds": round(st.get("seconds", 0.0), 2),
        "states_ms_per_1000_mutations": round(1000 * st.get("seconds", 0.0) / muts * 1000, 1),
        "replay_cpu_ms_per_1000_mutations_64_changes": round(1000 * replay_bounded / len(pv.mutations) * 1000, 1),
        "replay_cpu_ms_per_1000_mutations_all_changes": round(1000 * replay_all / len(pv.mutations) * 1000, 1),
        "visible_changes_unbounded": len(found),
    }


def bench_states_no_chromium(ctx) -> dict:
    from hindsight.benchmarks.importers import synthetic_recording

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "synthetic.json"
        src.write_text(json.dumps(synthetic_recording(200_000)))
        runs = {True: [], False: []}
        for _ in range(2):  # alternate, so a busy moment hits both alike
            for states in (False, True):
                _, wall, cpu = _import([src], Path(tmp) / "c.sqlite", False, states)
                runs[states].append(cpu)
    off, on = min(runs[False]), min(runs[True])
    return {"rrweb_events": 200_000, "cpu_seconds_states_off": round(off, 2),
            "cpu_seconds_states_on": round(on, 2), "ratio_on_over_off": round(on / off, 3)}


for _fn in (bench_states_import, bench_states_mutations, bench_states_no_chromium):
    _fn.needs_capture = False  # type: ignore[attr-defined]

BENCHMARKS = [("states.import", bench_states_import), ("states.mutations", bench_states_mutations),
              ("states.no_chromium", bench_states_no_chromium)]
