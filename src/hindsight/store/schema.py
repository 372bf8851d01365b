"""The capture file's SQL schema and version (the product's data contract; see README)."""

from __future__ import annotations

FORMAT_NAME = "hindsight-capture"
SCHEMA_VERSION = 2
#: Format versions this Hindsight reads (1: events only as per-pageview BLOBs, read-only).
READABLE_VERSIONS = (1, 2)

#: SQLite page size of new captures (and upgrades), bytes. Column BLOBs of event chunks span
#: many overflow pages; larger pages mean fewer page reads per chunk (README, "Capture
#: format 2: speed and memory"). Existing files keep theirs.
PAGE_SIZE = 16384

#: Tables every capture must have (bookmarks tables are created on demand).
REQUIRED_TABLES = ("meta", "pages", "snapshots", "elements", "sessions", "pageviews", "strings")

SCHEMA_SQL = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE pages (
    page_id INTEGER PRIMARY KEY,
    url     TEXT NOT NULL UNIQUE,
    title   TEXT NOT NULL DEFAULT ''
);
-- One full-page screenshot of a page as one device class sees it.
CREATE TABLE snapshots (
    snapshot_id  INTEGER PRIMARY KEY,
    page_id      INTEGER NOT NULL REFERENCES pages(page_id),
    device       TEXT NOT NULL,              -- desktop | tablet | mobile
    width        INTEGER NOT NULL,           -- CSS px of the full page
    height       INTEGER NOT NULL,           -- CSS px of the full page
    scale        REAL NOT NULL DEFAULT 1.0,  -- image px per CSS px
    image        BLOB,                       -- PNG
    image_format TEXT NOT NULL DEFAULT 'png',
    UNIQUE (page_id, device, width)
);
-- The element map of a snapshot; idx is what events' target column refers to.
CREATE TABLE elements (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(snapshot_id),
    idx         INTEGER NOT NULL,
    selector    TEXT NOT NULL,
    tag         TEXT NOT NULL DEFAULT '',
    role        TEXT NOT NULL DEFAULT '',
    label       TEXT NOT NULL DEFAULT '',
    x INTEGER NOT NULL, y INTEGER NOT NULL, w INTEGER NOT NULL, h INTEGER NOT NULL,  -- CSS px
    clickable   INTEGER NOT NULL DEFAULT 0,
    field       TEXT,                        -- form field name, NULL if not a form control
    form        TEXT,                        -- form name, NULL if not in a form
    sensitive   INTEGER NOT NULL DEFAULT 0,
    href        TEXT,                        -- navigation target, if any
    position    TEXT NOT NULL DEFAULT '',    -- 'fixed' | 'sticky' if it (or an ancestor) is, else ''
    PRIMARY KEY (snapshot_id, idx)
);
-- Error messages and custom event names referred to by events' value column.
CREATE TABLE strings (
    string_id INTEGER PRIMARY KEY,
    text      TEXT NOT NULL UNIQUE
);
CREATE TABLE sessions (
    session_id     INTEGER PRIMARY KEY,
    visitor_id     TEXT NOT NULL DEFAULT '',
    start_ms       INTEGER NOT NULL,          -- Unix epoch ms, UTC
    duration_ms    INTEGER NOT NULL,
    device         TEXT NOT NULL,             -- desktop | tablet | mobile
    browser        TEXT NOT NULL DEFAULT '',
    os             TEXT NOT NULL DEFAULT '',
    country        TEXT NOT NULL DEFAULT '',  -- ISO 3166 alpha-2
    source         TEXT NOT NULL DEFAULT '',  -- direct | organic | paid | social | email | referral
    utm_source     TEXT NOT NULL DEFAULT '',
    utm_medium     TEXT NOT NULL DEFAULT '',
    utm_campaign   TEXT NOT NULL DEFAULT '',
    referrer       TEXT NOT NULL DEFAULT '',
    viewport_w     INTEGER NOT NULL,          -- CSS px
    viewport_h     INTEGER NOT NULL,          -- CSS px
    converted      INTEGER NOT NULL DEFAULT 0,
    entry_page_id  INTEGER REFERENCES pages(page_id),
    exit_page_id   INTEGER REFERENCES pages(page_id),
    pageview_count INTEGER NOT NULL DEFAULT 0,
    event_count    INTEGER NOT NULL DEFAULT 0,
    external_id    TEXT NOT NULL DEFAULT ''   -- id in the source recording, if imported
);
CREATE INDEX sessions_start ON sessions(start_ms);
CREATE INDEX sessions_device ON sessions(device);
-- One visit of a page within a session; events hold the packed event records.
CREATE TABLE pageviews (
    pageview_id INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions(session_id),
    seq         INTEGER NOT NULL,              -- 0-based order within the session
    page_id     INTEGER NOT NULL REFERENCES pages(page_id),
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(snapshot_id),
    start_ms    INTEGER NOT NULL,              -- ms since session start
    end_ms      INTEGER NOT NULL,              -- ms since session start
    load_ms     INTEGER NOT NULL DEFAULT 0,
    event_count INTEGER NOT NULL,
    events      BLOB NOT NULL                  -- packed records, see store/columns.py
);
CREATE INDEX pageviews_session ON pageviews(session_id, seq);
CREATE INDEX pageviews_snapshot_session ON pageviews(snapshot_id, session_id, seq, start_ms, end_ms);
CREATE INDEX pageviews_page ON pageviews(page_id, session_id);
"""

#: The pageviews of a snapshot, read from the index alone (the table's rows hold the events
#: BLOBs, so reading these few columns from it touches nearly every page of the file): the
#: numbers a heatmap needs, and the count of a snapshot's sessions without reading the
#: session table. Captures written before it (with ``pageviews_snapshot(snapshot_id)``) get
#: it when appended to; readers fall back to the table without it.
PAGEVIEWS_SNAPSHOT_INDEX = "pageviews_snapshot_session"
PAGEVIEWS_SNAPSHOT_SQL = (f"CREATE INDEX IF NOT EXISTS {PAGEVIEWS_SNAPSHOT_INDEX} "
                          "ON pageviews(snapshot_id, session_id, seq, start_ms, end_ms)")

#: Format 2: the same events again as columnar chunks per (snapshot, event kind), so a
#: heatmap reads only the columns and kinds it needs (see store/chunks.py and README).
CHUNKS_SQL = """
CREATE TABLE IF NOT EXISTS event_chunks (
    chunk_id     INTEGER PRIMARY KEY,
    snapshot_id  INTEGER NOT NULL,
    kind         INTEGER NOT NULL,     -- EventKind of every row
    n            INTEGER NOT NULL,     -- rows
    session_min  INTEGER NOT NULL,     -- session id range of the rows (chunk skipping)
    session_max  INTEGER NOT NULL,
    session_id   BLOB NOT NULL,        -- run-length: int64 values[r] then uint32 counts[r]
    pageview_id  BLOB NOT NULL,        -- run-length, same layout
    x            BLOB NOT NULL,        -- int32[n] document CSS px
    y            BLOB NOT NULL,        -- int32[n]
    t            BLOB NOT NULL,        -- uint32[n] ms since session start
    target       BLOB NOT NULL,        -- int16[n] element index, -1 none
    value        BLOB NOT NULL,        -- int32[n]
    seq          BLOB NOT NULL         -- uint32[n] position of the event in its pageview's events BLOB
);
CREATE INDEX IF NOT EXISTS event_chunks_snapshot ON event_chunks(snapshot_id, kind, session_min);
"""

#: Recordings imported into the capture, by a hash of the recording itself (sha256 of its
#: raw events sorted by time, canonical JSON), so importing the same file again is skipped.
#: Created on demand (``CREATE ... IF NOT EXISTS``) when a capture is created or appended to,
#: so captures written before it stay valid; readers never need it. Erasing a session
#: deletes its rows (the table has a ``session_id`` column).
RECORDINGS_SQL = """
CREATE TABLE IF NOT EXISTS recordings (
    hash        TEXT PRIMARY KEY,          -- 'sha256:' + hex of the canonical event JSON
    session_id  INTEGER NOT NULL,
    source      TEXT NOT NULL DEFAULT '',  -- file name it was imported from
    imported_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS recordings_session ON recordings(session_id);
"""

#: Ground truth of behaviours the demo generator planted (only in demo captures).
PLANTED_SQL = """
CREATE TABLE IF NOT EXISTS planted (
    session_id INTEGER NOT NULL,
    kind       TEXT NOT NULL,     -- rage_click, dead_click, hesitation, abandon, ...
    t_ms       INTEGER NOT NULL,  -- ms since session start
    end_ms     INTEGER NOT NULL,
    selector   TEXT NOT NULL DEFAULT '',
    detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS planted_kind ON planted(kind, session_id);
"""

#: Added to ``elements`` of captures written before the column (on append; readers of such
#: files see '' for every element).
ELEMENTS_POSITION_SQL = "ALTER TABLE elements ADD COLUMN position TEXT NOT NULL DEFAULT ''"
