"""Page states: extra screenshots of a snapshot's page as the DOM changed visibly during a visit.

An imported pageview starts on its snapshot's screenshot. When the recording's DOM changed
visibly (a dialog or menu opened, an inline message appeared, content was swapped; see
``importers/states.py`` for the rule) the importer renders the page as it was then and stores
it here. Two tables, created on demand (``CREATE ... IF NOT EXISTS``, like ``recordings``), so
captures without them stay valid and readers never need them:

``states``
    one row per distinct rendered state (``hash`` = sha256 of the rendered DOM + viewport,
    so an identical state is stored once across sessions): its snapshot, page size in CSS px,
    the PNG, a short ``label`` ("dialog #compare-modal shown") and ``boxes``, the element
    map's boxes in this state (int32 little-endian x, y, w, h per element index of the
    snapshot's element map; w = h = 0 where an element is not shown), so clicks can be drawn
    on the state. ``session_id`` is the session whose DOM it was rendered from: erasing that
    session removes the state too (a page state can hold that visitor's page content).
``session_states``
    the timeline: from ``t_ms`` (ms since session start) on, pageview ``seq`` of session
    ``session_id`` shows ``state_id`` (-1: the snapshot's own screenshot again), until the
    next row of that pageview.
"""

from __future__ import annotations

import sqlite3

import numpy as np

STATES_SQL = """
CREATE TABLE IF NOT EXISTS states (
    state_id    INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL,
    session_id  INTEGER NOT NULL,          -- the session it was rendered from
    hash        TEXT NOT NULL UNIQUE,      -- 'sha256:' + hex of the rendered DOM and viewport
    width       INTEGER NOT NULL,          -- CSS px of the full page
    height      INTEGER NOT NULL,          -- CSS px of the full page
    image       BLOB,                      -- PNG, 1 image px per CSS px
    label       TEXT NOT NULL DEFAULT '',
    boxes       BLOB                       -- int32 (n, 4) x, y, w, h per snapshot element index
);
CREATE INDEX IF NOT EXISTS states_snapshot ON states(snapshot_id);
CREATE TABLE IF NOT EXISTS session_states (
    session_id  INTEGER NOT NULL,
    seq         INTEGER NOT NULL,          -- the pageview's seq in the session
    t_ms        INTEGER NOT NULL,          -- ms since session start
    state_id    INTEGER NOT NULL,          -- -1: the snapshot's own screenshot
    PRIMARY KEY (session_id, seq, t_ms)
);
"""


class StateStore:
    """Writes states into a capture being written (``CaptureWriter``'s open transaction)."""

    def __init__(self, writer):
        self._con: sqlite3.Connection = writer._con  # same package: the writer's transaction
        self._ready = False
        self._hashes: dict[str, int] | None = None

    def _ensure(self) -> None:
        if not self._ready:
            for statement in STATES_SQL.split(";"):
                if statement.strip():
                    self._con.execute(statement)
            self._ready = True

    def known(self, digest: str) -> int | None:
        """The state id stored for this hash (in this capture), if any."""
        if self._hashes is None:
            has = self._con.execute("SELECT 1 FROM sqlite_master WHERE name='states'").fetchone()
            self._hashes = dict(self._con.execute("SELECT hash, state_id FROM states")) if has else {}
        return self._hashes.get(digest)

    def add_state(self, snapshot_id: int, session_id: int, digest: str, width: int, height: int,
                  image: bytes | None, label: str, boxes: np.ndarray) -> int:
        self._ensure()
        self.known(digest)
        b = np.nan_to_num(np.asarray(boxes, dtype=np.float64).reshape(-1, 4), nan=0.0)
        blob = np.clip(np.rint(b), -2**31, 2**31 - 1).astype("<i4").tobytes()
        state_id = int(self._con.execute(
            "INSERT INTO states(snapshot_id, session_id, hash, width, height, image, label, boxes) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (int(snapshot_id), int(session_id), digest, int(width), int(height), image, label[:200], blob),
        ).lastrowid)
        assert self._hashes is not None
        self._hashes[digest] = state_id
        return state_id

    def add_timeline(self, session_id: int, seq: int, rows: list[tuple[int, int]]) -> None:
        """``rows``: (t_ms since session start, state_id) of one pageview, in time order."""
        if not rows:
            return
        self._ensure()
        self._con.executemany("INSERT OR REPLACE INTO session_states(session_id, seq, t_ms, state_id) "
                              "VALUES (?, ?, ?, ?)", [(int(session_id), int(seq), int(t), int(s)) for t, s in rows])


# -- reading -------------------------------------------------------------------------------

def has_states(capture) -> bool:
    return "states" in capture.tables and "session_states" in capture.tables


def session_states(capture, session_id: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Pageview seq -> (t_ms int64, state_id int64) of one session, sorted by time ({} if none)."""
    if not has_states(capture):
        return {}
    rows = capture._query("SELECT seq, t_ms, state_id FROM session_states WHERE session_id = ? "
                          "ORDER BY seq, t_ms", (int(session_id),))
    out: dict[int, tuple[list, list]] = {}
    for seq, t, s in rows:
        if type(seq) is int and type(t) is int and type(s) is int:
            a = out.setdefault(seq, ([], []))
            a[0].append(t)
            a[1].append(s)
    return {k: (np.asarray(v[0], np.int64), np.asarray(v[1], np.int64)) for k, v in out.items()}


def state_info(capture, state_id: int) -> dict | None:
    """snapshot_id, width, height, label of a state (None if there is no such state)."""
    if not has_states(capture):
        return None
    rows = capture._query("SELECT snapshot_id, width, height, label FROM states WHERE state_id = ?",
                          (int(state_id),))
    if not rows:
        return None
    sid, w, h, label = rows[0]
    return {"state_id": int(state_id), "snapshot_id": int(sid), "width": int(w), "height": int(h),
            "label": str(label)}


def snapshot_states(capture, snapshot_id: int) -> list[dict]:
    """The states of a snapshot (``state_info`` dicts), in state id order."""
    if not has_states(capture):
        return []
    rows = capture._query("SELECT state_id, width, height, label FROM states WHERE snapshot_id = ? "
                          "ORDER BY state_id", (int(snapshot_id),))
    return [{"state_id": int(s), "snapshot_id": int(snapshot_id), "width": int(w), "height": int(h),
             "label": str(lb)} for s, w, h, lb in rows]


def state_image(capture, state_id: int) -> bytes | None:
    """The state's PNG (checked like snapshot images), or None."""
    if not has_states(capture):
        return None
    rows = capture._query("SELECT image FROM states WHERE state_id = ?", (int(state_id),))
    data = rows[0][0] if rows else None
    if data is None:
        return None
    from hindsight.store.errors import CaptureError
    from hindsight.store.validate import Damage, check_image

    try:
        check_image(data, state_id).close()
    except Damage as exc:
        raise CaptureError(capture.path, f"is damaged: state {state_id}: {exc}") from None
    return data


def state_boxes(capture, state_id: int) -> np.ndarray:
    """(n, 4) int32 element boxes of the snapshot's element map in this state ((0, 4) if none)."""
    if not has_states(capture):
        return np.zeros((0, 4), np.int32)
    rows = capture._query("SELECT boxes FROM states WHERE state_id = ?", (int(state_id),))
    data = rows[0][0] if rows else None
    if not isinstance(data, bytes) or len(data) % 16:
        return np.zeros((0, 4), np.int32)
    return np.frombuffer(data, dtype="<i4").reshape(-1, 4).astype(np.int32)


def shown_at(capture, state_id: int, snapshot_id: int, sessions, pageview_ids, t) -> np.ndarray:
    """Per event of the snapshot (its session, pageview id and ms since session start): whether
    state ``state_id`` showed then (the ``session_states`` timeline of its pageview)."""
    n = len(t)
    keep = np.zeros(n, dtype=bool)
    if not n:
        return keep
    cols = capture.snapshot_pageview_columns(snapshot_id, ("pageview_id", "seq"))   # by pageview id
    ids, seqs = cols["pageview_id"], cols["seq"]
    pv = np.asarray(pageview_ids, dtype=np.int64)
    if ids.size:
        at = np.minimum(np.searchsorted(ids, pv), ids.size - 1)
        seq = np.where(ids[at] == pv, seqs[at], -1)   # -1: a pageview not of the snapshot
    else:
        seq = np.full(n, -1)
    timelines: dict[int, dict] = {}
    for i, (s, q, ti) in enumerate(zip(np.asarray(sessions).tolist(), seq.tolist(), np.asarray(t).tolist())):
        if s not in timelines:
            timelines[s] = session_states(capture, s)
        keep[i] = state_at(timelines[s].get(q), ti) == state_id
    return keep


def state_at(timeline: tuple[np.ndarray, np.ndarray] | None, t_ms: float) -> int:
    """The state showing at ``t_ms`` on a pageview's timeline (-1: the snapshot itself)."""
    if timeline is None or not len(timeline[0]):
        return -1
    j = int(np.searchsorted(timeline[0], t_ms, side="right")) - 1
    return int(timeline[1][j]) if j >= 0 else -1


def state_element_map(capture, state_id: int, emap):
    """The snapshot's ``ElementMap`` with the element boxes of this state (``emap`` itself when
    the state has no boxes for it)."""
    import dataclasses

    boxes = state_boxes(capture, state_id)
    if len(boxes) != len(emap):
        return emap
    return dataclasses.replace(emap, boxes=boxes)


def element_box(capture, snapshot_id: int, index: int, state_id: int | None = None) -> tuple[int, int, int, int]:
    """(x, y, w, h) CSS px of element ``index`` of the snapshot's map: in page state ``state_id``
    where it has a box there (as :func:`project_to_state` decides), else as the page loaded."""
    box = capture.elements(snapshot_id).boxes[index]
    if state_id is not None:
        boxes = state_boxes(capture, state_id)
        if len(boxes) == len(capture.elements(snapshot_id)) and _has_box(boxes[index:index + 1])[0]:
            box = boxes[index]
    return tuple(int(v) for v in box)


def _has_box(boxes: np.ndarray) -> np.ndarray:
    """Per (x, y, w, h) row: whether it is a box at all (positive width and height)."""
    return (boxes[:, 2] > 0) & (boxes[:, 3] > 0)


def project_to_state(x, y, target, base_boxes: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions stored in the snapshot's layout (x, y; ``target`` element indices) moved to the
    same relative spot of their element's box in a state (``boxes``): stored click positions
    are in the snapshot's layout (the importer moves a click whose element moved back into
    its snapshot box). Points without a target, or whose element has no box in either layout,
    stay where they are. Used by the replay and by a state's click map alike."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    tgt = np.asarray(target, dtype=np.int64)
    base = np.asarray(base_boxes, dtype=np.float64).reshape(-1, 4)
    now = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(now) != len(base) or not len(tgt) or not len(base):
        return x, y
    ok = (tgt >= 0) & (tgt < len(base))
    t = np.where(ok, tgt, 0)
    b, n = base[t], now[t]
    ok &= _has_box(b) & _has_box(n)
    return (np.where(ok, n[:, 0] + (x - b[:, 0]) * n[:, 2] / np.maximum(b[:, 2], 1), x),
            np.where(ok, n[:, 1] + (y - b[:, 1]) * n[:, 3] / np.maximum(b[:, 3], 1), y))
