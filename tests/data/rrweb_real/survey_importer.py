"""What the current `hindsight import rrweb` makes of each recording in this folder.

    .venv/bin/python tests/data/rrweb_real/survey_importer.py [OUT_DIR]

Runs the installed `hindsight` CLI (next to this Python) on every session_*.json,
one capture per file, then a few combined imports (all landing widths, both product
URLs, --append twice, the width-named screenshots), and prints Markdown: the facts
in README.md's "What the current importer does" section came from this. It only
reads the recordings; captures go to OUT_DIR (default: a temporary folder).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
HS = [str(Path(sys.executable).with_name("hindsight"))]


def run(*args: str) -> tuple[int, str, str]:
    p = subprocess.run(HS + list(args), capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def imp(out: Path, files: list[Path], *extra: str) -> dict:
    code, so, se = run("import", "rrweb", *map(str, files), "--out", str(out), *extra, "--json")
    if code != 0:
        return {"exit": code, "error": (se or so).strip()}
    rep = json.loads(so)
    rep["exit"] = code
    return rep


def info(cap: Path) -> dict:
    return json.loads(run("info", str(cap), "--json")[1])


def signals(cap: Path) -> dict:
    s = json.loads(run("signals", str(cap), "--json")[1])
    return {k["kind"]: k["signals"] for k in s["kinds"]}


def forms(cap: Path) -> str:
    code, so, se = run("forms", str(cap))
    return (so if code == 0 else f"exit {code}: {(se or so).strip()}").strip()


def clicks_vs_truth(cap: Path, truth: dict) -> list[str]:
    """Each stored click/tap next to what the browser did (expected.json), in order."""
    from hindsight.store import EventKind
    from hindsight.store.reader import open_capture

    c = open_capture(cap)
    pvs, ev, pv_index = c.session_events(1)
    by_index = {a["rrweb_click_index"]: a for a in truth["actions"] if a.get("rrweb_click_index") is not None}
    kinds = (int(EventKind.CLICK), int(EventKind.TAP))
    rows = []
    k = -1
    for i in range(len(ev)):
        if int(ev.kind[i]) not in kinds:
            continue
        k += 1  # stored clicks/taps are rrweb's Clicks in order (the importer keeps every one)
        pv = pvs[int(pv_index[i])]
        emap = c.elements(pv.snapshot_id)
        tgt = int(ev.target[i])
        sel = emap.selector[tgt] if 0 <= tgt < len(emap.selector) else None
        a = by_index.get(k)
        if a is None:
            rows.append(f"rrweb click {k} (not scripted, e.g. a <select> option chosen with Enter): stored ({int(ev.x[i])}, {int(ev.y[i])}) on '{sel}'")
            continue
        px, py = a["client"]["x"] + a["scroll"]["x"], a["client"]["y"] + a["scroll"]["y"]
        fs = a["fixed_or_sticky"]["position"] if a.get("fixed_or_sticky") else ""
        rows.append(f"{a['key']['selector'][:60]}{' [' + fs + ']' if fs else ''}: browser page ({px:.0f}, {py:.0f}) "
                    f"scrollY {a['scroll']['y']:.0f}; stored ({int(ev.x[i])}, {int(ev.y[i])}) on '{sel}' "
                    f"(pageview {pv.seq}, snapshot {pv.snapshot_id})")
    return rows


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="hs-survey-"))
    out.mkdir(parents=True, exist_ok=True)
    files = sorted(HERE.glob("session_*.json"))
    print("| file | exit | sessions | pageviews | pages (url, title) | snapshots (device WxH) | event kinds stored | signals (nonzero) | notes |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    details = {}
    truths: dict[str, list[str]] = {}
    expected = json.loads((HERE / "expected.json").read_text())
    for f in files:
        cap = out / (f.stem + ".sqlite")
        rep = imp(cap, [f], "--overwrite")
        if rep["exit"] != 0:
            print(f"| {f.name} | {rep['exit']} | refused: `{rep['error']}` | | | | | | | |")
            continue
        inf = info(cap)
        sig = {k: v for k, v in signals(cap).items() if v}
        pages = "; ".join(f"{p['url'].replace('http://www.hindsight.test', '')} '{p['title']}'" for p in inf["page_list"])
        snaps = ", ".join(f"{s['device']} {s['width']}x{s['height']}" for s in inf["snapshot_list"])
        kinds = rep.get("kinds", {})
        notes = "; ".join(rep.get("notes", []) + [f"adjusted {k}: {v}" for k, v in rep.get("adjusted", {}).items()])
        kinds_s = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
        print(f"| {f.name} | 0 | {rep['sessions']} | {rep['pageviews']} | {pages} | {snaps} | {kinds_s} "
              f"| {sig or '-'} | {notes or '-'} |")
        details[f.name] = forms(cap)
        truths.setdefault(f.name, clicks_vs_truth(cap, expected["files"][f.name]))
    print()
    for name, text in details.items():
        print(f"### forms: {name}\n```\n{text}\n```")

    for name, rows in truths.items():
        print(f"### clicks as stored vs the browser: {name}\n")
        for r in rows:
            print(f"- {r}")
        print()
    print("\n### combined imports\n")
    landing = [HERE / f"session_landing_{w}.json" for w in ("1280x800", "1440x900", "1920x1080", "390x844")]
    cap = out / "landing_all.sqlite"
    rep = imp(cap, landing, "--overwrite")
    print("landing, 4 widths:", {k: rep.get(k) for k in ("exit", "sessions", "pageviews", "snapshots_created", "notes", "error")})
    inf = info(cap)
    print("  snapshots:", [(s["device"], s["width"], s["height"]) for s in inf["snapshot_list"]])
    url = inf["page_list"][0]["url"] if inf.get("page_list") else None
    if url:
        for kind in ("click", "rage"):
            code, so, se = run("heatmap", str(cap), "--page", url, "--kind", kind, "--json", "-o", str(out / f"landing_{kind}.png"))
            if code:
                print(f"  heatmap --kind {kind}: exit {code}: {(se or so).strip()}")
                continue
            h = json.loads(so)
            top = [(e["selector"], e["clicks"]) for e in h.get("top_elements", [])]
            print(f"  heatmap --kind {kind}: snapshot {h.get('snapshot_id')}, sample {h.get('sample')}, note {h.get('note')}, top {top}")
    shots = sorted((HERE / "screenshots").glob("landing_*.png"))
    rep = imp(out / "landing_shots.sqlite", landing, "--overwrite", *[a for s in shots for a in ("--screenshot", str(s))])
    print("landing + --screenshot landing_WxH.png:", {k: rep.get(k) for k in ("exit", "snapshots_created", "screenshots_used", "notes", "error")})
    rep = imp(out / "landing_shots2.sqlite", landing, "--overwrite", *[a for s in shots for a in ("--screenshot", f"http://www.hindsight.test/landing.html={s}")])
    print("landing + --screenshot URL=landing_WxH.png (x4):", {k: rep.get(k) for k in ("exit", "snapshots_created", "screenshots_used", "notes", "error")})

    cap = out / "product_all.sqlite"
    rep = imp(cap, [HERE / "session_product_1280x800.json", HERE / "session_product_1440x900.json"], "--overwrite")
    print("product, 2 sessions:", {k: rep.get(k) for k in ("exit", "sessions", "pageviews", "notes", "error")})
    print("  pages:", [p["url"] for p in info(cap).get("page_list", [])])
    rep = imp(out / "product_strip.sqlite", [HERE / "session_product_1280x800.json", HERE / "session_product_1440x900.json"], "--overwrite", "--strip-query")
    print("product --strip-query:", [p["url"] for p in info(out / "product_strip.sqlite").get("page_list", [])])

    cap = out / "append.sqlite"
    one = HERE / "session_spa_plain_1280x800.json"
    imp(cap, [one], "--overwrite")
    rep = imp(cap, [one], "--append")
    print("spa_plain imported, then --append the same file:", {k: rep.get(k) for k in ("exit", "sessions", "notes", "error")},
          "-> sessions in capture:", info(cap).get("sessions"))

    cap = out / "all.sqlite"
    rep = imp(cap, files, "--overwrite")
    print("all files in one import:", {k: rep.get(k) for k in ("exit", "sessions", "pageviews", "events", "snapshots_created", "seconds", "error")})
    if "--keep" not in sys.argv and len(sys.argv) <= 1:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
