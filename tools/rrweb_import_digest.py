"""A canonical dump of what the rrweb importer stores for the recorded fixtures, to compare two
versions of the importer (issue 15: a faster import must store exactly the same data).

Imports the 24 fixtures (tests/data/rrweb_real, rrweb_upstream) together with masking on, off
and --mask-text, each fixture alone, and the fixtures replicated to 120 recordings (so the
per-process caches are hit), rendering off; writes every table's rows (BLOBs as sha1, the
import time left out) and the import report to OUT. Run it with each version and diff:

    PYTHONPATH=/path/to/old/src .venv/bin/python tools/rrweb_import_digest.py /tmp/old.txt
    .venv/bin/python tools/rrweb_import_digest.py /tmp/new.txt && cmp /tmp/old.txt /tmp/new.txt

``--workers N`` imports with N parsing processes (``importers.parallel``; the default lets the
import choose, which for these small sets is none), so the output must be the same with 1.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
import tempfile
from pathlib import Path

from hindsight.benchmarks.importers import fixture_files, replicated_fixtures
from hindsight.importers import snapshot_cache
from hindsight.importers.session_writer import import_files

SKIP_META = ("created", "created_ms", "modified", "imported_at")


def dump(db: Path, out) -> None:
    """Every table's rows, sorted, BLOBs as sha1, without the import time."""
    con = sqlite3.connect(db)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({name})")]
        for r in sorted(con.execute(f"SELECT * FROM {name}").fetchall(), key=repr):
            d = dict(zip(cols, r))
            if name == "recordings":
                d.pop("imported_ms")
            if name == "meta" and d["key"] in SKIP_META:
                continue
            d = {k: (hashlib.sha1(v).hexdigest() if isinstance(v, bytes) else v) for k, v in d.items()}
            out.write(f"{name} {d!r}\n")
    con.close()


def main(out_path: str, workers: int | None = None) -> None:
    root = Path(__file__).resolve().parents[1] / "tests" / "data"
    files = fixture_files(root)
    assert len(files) == 24, len(files)
    rep = Path(tempfile.gettempdir()) / "hindsight_rrweb_digest_rep120"
    if not rep.exists():
        replicated_fixtures(rep, 120, root)
    reps = sorted(rep.glob("*.json"))
    with open(out_path, "w") as out:
        runs = [("each", files, {}), ("each_nomask", files, {"mask": False}),
                ("each_masktext", files, {"mask_text": True}), ("rep", reps, {})]
        for label, paths, kw in runs:
            snapshot_cache.clear()
            with tempfile.TemporaryDirectory() as tmp:
                db = Path(tmp) / "c.sqlite"
                report = import_files(paths, db, render=False, workers=workers, **kw).as_dict()
                report.pop("seconds")
                out.write(f"== {label}\nreport {json.dumps(report, sort_keys=True, default=str)}\n")
                dump(db, out)
            if label == "each":  # each file alone too (nothing cached from the others)
                for f in files:
                    snapshot_cache.clear()
                    with tempfile.TemporaryDirectory() as tmp:
                        db = Path(tmp) / "c.sqlite"
                        import_files([f], db, render=False)
                        out.write(f"== alone {f.name}\n")
                        dump(db, out)


if __name__ == "__main__":
    args = sys.argv[1:]
    n = None
    if "--workers" in args:
        i = args.index("--workers")
        n = int(args[i + 1])
        del args[i:i + 2]
    main(args[0], n)
