"""``hindsight check DATASET``: every problem of a capture dataset, one line each.

Reads, in this process and one file at a time: ``meta.json`` (missing, unreadable, newer
version), every part file whole (a corrupt file, or columns that are not the layout's), every
snapshot image, then each day partition through the engine's reader with the capture's damage
rules (:mod:`hindsight.engine.validate`): damaged session and pageview rows, and the damaged
events of each day (dropped by the analyses, counted here).
"""

from __future__ import annotations

from hindsight.store.errors import CaptureError


def _tables(store) -> list[str]:
    from hindsight.dataset import layout

    return [name for name in layout.SCHEMAS if name not in ("sessions", "pageviews", "events")] + \
        ["sessions", "pageviews", "events"]


def check_dataset(url, limit: int = 200) -> list[str]:
    """Problems of the dataset at ``url`` (a folder or fsspec URL), at most ``limit`` lines."""
    import pyarrow.parquet as pq

    from hindsight.dataset import layout
    from hindsight.engine.reader import open_dataset
    from hindsight.engine.validate import damage_counts

    try:
        ds = open_dataset(str(url))
    except CaptureError as exc:
        return [str(exc)]
    store = ds.store
    problems: list[str] = []
    corrupt = False

    def add(line: str) -> bool:
        problems.append(line)
        return len(problems) >= limit

    # 1. every part file, read whole against the layout's schema
    for name in _tables(store):
        try:
            files = store.files(name)
        except CaptureError as exc:
            if add(str(exc)):
                return problems
            continue
        want = layout.EVENTS_SCHEMA_V1 if name == "events" and store.version < 2 else layout.SCHEMAS[name]
        for path in files:
            try:
                t = pq.read_table(path, filesystem=store._afs)
            except Exception as exc:  # noqa: BLE001 - any unreadable file is one line
                corrupt = True
                if add(f"{path}: is a corrupt part file: {' '.join(str(exc).split())[:200]}"):
                    return problems
                continue
            wrong = [f"{f.name} ({t.schema.field(f.name).type if f.name in t.schema.names else 'missing'}, "
                     f"not {f.type})" for f in want
                     if f.name not in t.schema.names or not t.schema.field(f.name).type.equals(f.type)]
            if wrong:
                corrupt = True
                if add(f"{path}: has columns that are not the layout's: {', '.join(wrong[:4])}"):
                    return problems
    if corrupt:   # the day reads would stop at the same files
        return problems
    # 2. snapshot images
    for snap in ds.snapshots():
        try:
            ds.snapshot_image(snap.snapshot_id)
        except CaptureError as exc:
            if add(str(exc)):
                return problems
    # 3. each day through the engine's reader: rows, then events
    for day in ds.days():
        part = ds.partition(day)
        try:
            part.session_table()
            part._pageview_arrays()
            part._events(None)
        except CaptureError as exc:
            if add(str(exc)):
                return problems
            continue
        rec = damage_counts(ds.url).get(day, {})
        if rec:
            by_pv: dict[int, int] = {}
            for (pv, _kind), n in rec.items():
                by_pv[pv] = by_pv.get(pv, 0) + n
            total = sum(by_pv.values())
            shown = ", ".join(f"{pv} ({n})" for pv, n in sorted(by_pv.items())[:5])
            more = f" and {len(by_pv) - 5} more" if len(by_pv) > 5 else ""
            if add(f"{part.path}: {total:,} damaged event{'s' if total != 1 else ''} (impossible kind, "
                   f"coordinates, target, time or value, or a pageview that does not exist) in pageview"
                   f"{'s' if len(by_pv) != 1 else ''} {shown}{more}"):
                return problems
    return problems
