"""The capture dataset's layout: folder names, Parquet schemas, the meta file (a data contract).

A capture dataset is a folder (or an fsspec URL: ``file://``, ``s3://`` through s3fs when it
is installed) of Parquet tables holding the same rows as a capture file::

    meta.json                                 {"format": "hindsight-dataset", "version": 2, ...}
    pages/part-*.parquet                      PAGES_SCHEMA
    snapshots/part-*.parquet                  SNAPSHOTS_SCHEMA (image: "images/<snapshot_id>.png")
    images/<snapshot_id>.png
    elements/part-*.parquet                   ELEMENTS_SCHEMA
    strings/part-*.parquet                    STRINGS_SCHEMA
    planted/part-*.parquet                    PLANTED_SCHEMA (demo ground truth; optional)
    sessions/day=YYYY-MM-DD/part-*.parquet    SESSIONS_SCHEMA
    pageviews/day=YYYY-MM-DD/part-*.parquet   PAGEVIEWS_SCHEMA (no events blob)
    events/day=YYYY-MM-DD/part-*.parquet      EVENTS_SCHEMA, row groups of one kind each, sorted by
                                              (kind, pageview_id, n); ``n`` is the event's index in
                                              its pageview (time order, ties as recorded)

``day`` is the UTC date of the session's start (``day=unknown`` when the start is not a
calendar date, see ``hindsight.store.records.date_known``); a session's pageviews and events
sit in the same day as the session. Ids are unique across the whole dataset. The three
per-day tables written together share a part name (``part-<writer>-<n>.parquet``), so the
pageviews and events of the sessions in ``sessions/day=D/part-X.parquet`` are in
``pageviews/day=D/part-X.parquet`` and ``events/day=D/part-X.parquet``.

Writers: ``hindsight export dataset`` keeps the capture's ids; ``hindsight demo --dataset``
numbers session ``i + 1`` for visitor ``i`` and pageviews ``session_id * 2**16 + seq``; each
``hindsight collect --dataset`` instance numbers sessions and pageviews in its own range
(``(1 + hash(name) % 2**20) << 40`` onwards) and pages, snapshots and strings by a hash of their
content (strings in 31 bits: events' int32 ``value`` refers to them), so several collectors may
write the same catalog row: readers keep one row per key (``CATALOG_KEYS``). A collector's
sessions part files list in their footer (key ``hindsight.tags``) the spool instances they hold.

Part files are written under a name starting with ``.`` (which Parquet readers skip) and
renamed into place when complete, so readers never see a half-written file. Events are
written in batches of whole sessions (about ``EVENTS_ROW_GROUP`` events), each batch as one row
group per event kind, so a per-kind question (a click heatmap reads clicks and taps) skips the
other kinds' row groups by their ``kind`` statistics, and one session is a few small reads (the
``session_id`` statistics); a part file holds at most about ``MAX_PART_EVENTS`` events.

Version 1 (before 2026-12) had no ``n`` column and one row group per batch sorted by
(pageview_id, t); it is still read (``EVENTS_SCHEMA_V1``), at the old speed.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa

FORMAT_NAME = "hindsight-dataset"
FORMAT_VERSION = 2
#: Dataset versions this Hindsight reads (1: events sorted by pageview, no ``n`` column).
READABLE_VERSIONS = (1, 2)
META_FILE = "meta.json"
IMAGES_DIR = "images"
UNKNOWN_DAY = "unknown"

#: Tables partitioned by day (``<table>/day=YYYY-MM-DD/part-*.parquet``).
DAY_TABLES = ("sessions", "pageviews", "events")
#: Tables of the whole dataset (``<table>/part-*.parquet``).
GLOBAL_TABLES = ("pages", "snapshots", "elements", "strings", "planted")

#: Events per written batch (whole sessions: a batch closes at the first session boundary past
#: it); a batch is written as one row group per event kind.
EVENTS_ROW_GROUP = 262_144
#: Events per part file before the writer starts the next one (~10 bytes an event compressed).
MAX_PART_EVENTS = 8_000_000
#: Parquet compression of every table.
COMPRESSION = "zstd"

#: The shared event columns (capture format 2's chunks use the same names and dtypes).
EVENTS_SCHEMA = pa.schema([
    ("session_id", pa.int64()),
    ("pageview_id", pa.int64()),
    ("snapshot_id", pa.int64()),
    ("t", pa.uint32()),        # ms since session start
    ("kind", pa.uint8()),      # hindsight.store.kinds.EventKind
    ("x", pa.int32()),         # document CSS px
    ("y", pa.int32()),
    ("target", pa.int16()),    # element index in the snapshot's element map, -1 none
    ("value", pa.int32()),
    ("n", pa.uint32()),        # index of the event in its pageview (time order; ties as recorded)
])
#: Version 1's event columns (no ``n``; rows sorted by (pageview_id, t)).
EVENTS_SCHEMA_V1 = pa.schema([f for f in EVENTS_SCHEMA if f.name != "n"])
#: The ``hindsight.store.columns.EventColumns`` fields, in that order.
EVENT_VALUE_COLUMNS = ("t", "kind", "x", "y", "target", "value")

SESSIONS_SCHEMA = pa.schema([
    ("session_id", pa.int64()),
    ("visitor_id", pa.string()),
    ("start_ms", pa.int64()),      # Unix epoch ms, UTC
    ("duration_ms", pa.int64()),
    ("device", pa.string()),
    ("browser", pa.string()),
    ("os", pa.string()),
    ("country", pa.string()),
    ("source", pa.string()),
    ("utm_source", pa.string()),
    ("utm_medium", pa.string()),
    ("utm_campaign", pa.string()),
    ("referrer", pa.string()),
    ("viewport_w", pa.int64()),
    ("viewport_h", pa.int64()),
    ("converted", pa.int64()),     # 0 / 1
    ("entry_page_id", pa.int64()),  # nullable
    ("exit_page_id", pa.int64()),   # nullable
    ("pageview_count", pa.int64()),
    ("event_count", pa.int64()),
    ("external_id", pa.string()),
])

PAGEVIEWS_SCHEMA = pa.schema([
    ("pageview_id", pa.int64()),
    ("session_id", pa.int64()),
    ("seq", pa.int64()),
    ("page_id", pa.int64()),
    ("snapshot_id", pa.int64()),
    ("start_ms", pa.int64()),   # ms since session start
    ("end_ms", pa.int64()),
    ("load_ms", pa.int64()),
    ("event_count", pa.int64()),
])

PAGES_SCHEMA = pa.schema([
    ("page_id", pa.int64()),
    ("url", pa.string()),
    ("title", pa.string()),
])

SNAPSHOTS_SCHEMA = pa.schema([
    ("snapshot_id", pa.int64()),
    ("page_id", pa.int64()),
    ("device", pa.string()),
    ("width", pa.int64()),      # CSS px of the full page
    ("height", pa.int64()),
    ("scale", pa.float64()),    # image px per CSS px
    ("image", pa.string()),     # "images/<snapshot_id>.png", relative to the dataset; null: none
    ("image_format", pa.string()),
])

ELEMENTS_SCHEMA = pa.schema([
    ("snapshot_id", pa.int64()),
    ("idx", pa.int64()),
    ("selector", pa.string()),
    ("tag", pa.string()),
    ("role", pa.string()),
    ("label", pa.string()),
    ("x", pa.int64()),
    ("y", pa.int64()),
    ("w", pa.int64()),
    ("h", pa.int64()),
    ("clickable", pa.int64()),
    ("field", pa.string()),     # nullable
    ("form", pa.string()),      # nullable
    ("sensitive", pa.int64()),
    ("href", pa.string()),      # nullable
])

STRINGS_SCHEMA = pa.schema([
    ("string_id", pa.int64()),
    ("text", pa.string()),
])

PLANTED_SCHEMA = pa.schema([
    ("session_id", pa.int64()),
    ("kind", pa.string()),
    ("t_ms", pa.int64()),
    ("end_ms", pa.int64()),
    ("selector", pa.string()),
    ("detail", pa.string()),
])

SCHEMAS: dict[str, pa.Schema] = {
    "sessions": SESSIONS_SCHEMA, "pageviews": PAGEVIEWS_SCHEMA, "events": EVENTS_SCHEMA,
    "pages": PAGES_SCHEMA, "snapshots": SNAPSHOTS_SCHEMA, "elements": ELEMENTS_SCHEMA,
    "strings": STRINGS_SCHEMA, "planted": PLANTED_SCHEMA,
}

#: The key of each catalog table. Collectors write pages, snapshots, elements and strings under
#: ids derived from a hash of their content, so several collectors may each write the same row:
#: readers keep one row per key (``Dataset.catalog``).
CATALOG_KEYS: dict[str, tuple[str, ...]] = {
    "pages": ("page_id",), "snapshots": ("snapshot_id",), "elements": ("snapshot_id", "idx"),
    "strings": ("string_id",),
}

_KNOWN_MIN_MS = 631_152_000_000     # hindsight.store.records.KNOWN_DATE_MIN_MS
_KNOWN_MAX_MS = 7_258_118_400_000   # hindsight.store.records.KNOWN_DATE_MAX_MS


def day_of(start_ms: int) -> str:
    """The ``day`` partition of a session starting at ``start_ms`` (epoch ms, UTC)."""
    if not _KNOWN_MIN_MS <= int(start_ms) <= _KNOWN_MAX_MS:
        return UNKNOWN_DAY
    return datetime.fromtimestamp(int(start_ms) / 1000, tz=timezone.utc).strftime("%Y-%m-%d")


def part_name(writer: str, n: int) -> str:
    """File name of a writer's ``n``-th part file (``writer``: letters, digits, ``-``)."""
    return f"part-{writer}-{n:05d}.parquet"


def image_path(snapshot_id: int, image_format: str = "png") -> str:
    return f"{IMAGES_DIR}/{int(snapshot_id)}.{image_format or 'png'}"


def meta_document(masking: str, creator: str, capture_meta: dict | None = None) -> dict:
    """The ``meta.json`` of a dataset: format, version, input masking, creator, and the capture
    meta rows it came from (``demo_seed``... ; the capture's own format keys left out)."""
    extra = {k: v for k, v in (capture_meta or {}).items()
             if k not in ("format", "format_version", "creator", "masking")}
    return {"format": FORMAT_NAME, "version": FORMAT_VERSION, "masking": masking, "creator": creator,
            "capture_meta": extra}


# -- saved page patterns (``hindsight pages``; written by ``export dataset`` and ``pages add``) --
#: ``page_patterns/part-p<epoch ms>-<n>.parquet``: the capture's ``page_patterns`` rows. The part
#: with the greatest name is the current list (``pages add`` writes a whole new one, then removes
#: the older ones), so a reader never sees half a change.
PAGE_PATTERNS_SCHEMA = pa.schema([
    ("kind", pa.string()),     # 'pattern' | 'keep_query'
    ("value", pa.string()),    # the pattern text, or the query key kept apart
    ("seq", pa.int64()),       # the order patterns are tried in (the first match wins)
])
SCHEMAS["page_patterns"] = PAGE_PATTERNS_SCHEMA
