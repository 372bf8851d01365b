"""Form analytics (Zuko / Hotjar forms style): who viewed, started, completed and abandoned
a form, and per field: interactions, timings, returns, corrections, blanks, validation
errors and where abandoning visitors left.

Definitions (Zuko's where it has one, field-facts.md 2.9):

- *viewed*: sessions with a pageview of the form's page (the chosen device snapshots);
- *started*: sessions with a FOCUS or INPUT on a field of the form (once per session);
- *completed*: sessions with a SUBMIT whose target belongs to the form;
- *abandoned*: started and not completed;
- *time to first interaction*: page load (pageview start + load time) to the field's first
  FOCUS, per session; *time in field*: FOCUS to the next BLUR (or the end of the pageview),
  summed per session;
- *return*: a FOCUS of a field the visitor had left (BLUR) with data entered (length > 0);
- *correction*: an INPUT whose length is below the field's previous length;
- *left blank*: focused, but length 0 at the end (submit or abandon);
- *drop-off*: the field an abandoning session touched last (FOCUS, INPUT or BLUR); the time
  it left is that last event.

Only lengths and timings exist in a capture; typed text is never recorded nor shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field

import numpy as np

from hindsight.analytics.page_groups import capture_groups
from hindsight.analytics.signals import CaptureEvents, load_events, session_ranges
from hindsight.store.errors import CaptureError
from hindsight.store.filters import SessionFilter
from hindsight.store.kinds import EventKind
from hindsight.store.reader import Capture

FORM_EVENT_KINDS = (EventKind.FOCUS, EventKind.BLUR, EventKind.INPUT, EventKind.SUBMIT, EventKind.VALIDATION)
_INTERACTION = np.asarray((EventKind.FOCUS, EventKind.INPUT, EventKind.BLUR), np.uint8)


def field_title(name: str) -> str:
    """Display name of a field: ``phone`` -> ``Phone``, ``first_name`` -> ``First name``."""
    return name.replace("_", " ").replace("-", " ").strip().capitalize() or name


@dataclass(frozen=True)
class FormRef:
    """A form on a page (a page group: one template under many URLs, see ``page_groups``): its
    name, page and the snapshots (devices, and the group's URLs) it appears in.

    ``url`` is the page group's pattern; ``page_id`` its first page.
    """

    form: str
    page_id: int
    url: str
    snapshot_ids: tuple[int, ...]
    devices: tuple[str, ...]


def list_forms(capture: Capture) -> list[FormRef]:
    """Every (form, page group) pair of the capture, in page order."""
    groups = capture_groups(capture)
    out: dict[tuple[str, str], dict] = {}
    for page in capture.pages():
        group = groups.group_of(page.page_id)
        key = group.key if group is not None else page.url
        for snap in capture.snapshots(page.page_id):
            emap = capture.elements(snap.snapshot_id)
            for name in dict.fromkeys(f for f, fld in zip(emap.form, emap.field) if f and fld):
                ref = out.setdefault((name, key), {"page_id": page.page_id, "snaps": [], "devices": []})
                ref["snaps"].append(snap.snapshot_id)
                ref["devices"].append(snap.device)
    return [FormRef(name, r["page_id"], key, tuple(r["snaps"]), tuple(r["devices"])) for (name, key), r in out.items()]


def find_form(capture: Capture, form: str | None = None, page_url: str | None = None,
              device: str | None = None) -> FormRef:
    """The form to analyse; ``CaptureError`` (one line) if there is none that matches.
    ``page_url``: a page URL or pattern (its page group)."""
    forms = list_forms(capture)
    if page_url is not None:
        try:
            page_url = capture_groups(capture).resolve(page_url).key
        except KeyError as exc:
            raise CaptureError(capture.path, f"has {exc.args[0]}") from None
        forms = [f for f in forms if f.url == page_url]
    if form is not None:
        forms = [f for f in forms if f.form == form]
    if not forms:
        what = f"form {form!r}" if form else "form"
        where = f" on {page_url}" if page_url else ""
        raise CaptureError(capture.path, f"has no {what}{where} (elements with a form and a field)")
    ref = forms[0]
    if device is not None:
        keep = [(s, d) for s, d in zip(ref.snapshot_ids, ref.devices) if d == device]
        if not keep:
            raise CaptureError(capture.path, f"has no {device} snapshot of {ref.url} "
                                             f"(devices: {', '.join(ref.devices)})")
        ref = FormRef(ref.form, ref.page_id, ref.url, tuple(s for s, _ in keep), tuple(d for _, d in keep))
    return ref


@dataclass(frozen=True)
class FieldStats:
    """Figures of one field. Times in ms (NaN when no session qualifies); counts are sessions
    unless named ``*_events``."""

    name: str
    title: str
    label: str
    selector: str
    order: int
    interacted: int
    first_interaction_median_ms: float
    first_interaction_mean_ms: float
    time_in_field_median_ms: float
    returns_events: int
    returns: int
    corrections_events: int
    corrections: int
    left_blank: int
    validation_events: int
    validation_errors: int
    dropoff: int
    dropoff_pct: float  # % of the form's abandons

    def as_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class AbandonList:
    """Sessions that abandoned the form at one field, and when they left it.

    session_id, pageview_id : (n,) int64; t_ms : (n,) int64 ms since session start.
    """

    field: str
    session_id: np.ndarray
    t_ms: np.ndarray
    pageview_id: np.ndarray

    def __len__(self) -> int:
        return int(self.session_id.shape[0])


@dataclass(frozen=True)
class FormReport:
    """Form analytics for one form on one page (all device snapshots, or one device)."""

    form: str
    url: str
    device: str | None
    viewed: int
    started: int
    completed: int
    abandoned: int
    fields: tuple[FieldStats, ...]
    # Per abandoned session: last field (index into fields), time and pageview it left at.
    abandon_session: np.ndarray = dc_field(repr=False)
    abandon_field: np.ndarray = dc_field(repr=False)
    abandon_t: np.ndarray = dc_field(repr=False)
    abandon_pageview: np.ndarray = dc_field(repr=False)

    def field(self, name: str) -> FieldStats:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"form {self.form!r} has no field {name!r}")

    @property
    def top_abandon_field(self) -> FieldStats | None:
        """The field most abandoning sessions left at (None without abandons)."""
        if not self.fields or self.abandoned == 0:
            return None
        best = max(self.fields, key=lambda f: (f.dropoff, -f.order))
        return best if best.dropoff > 0 else None

    def abandoned_sessions(self, field: str) -> AbandonList:
        """Sessions whose last touched field before abandoning was ``field``, by session id."""
        i = [f.name for f in self.fields].index(field) if field in [f.name for f in self.fields] else None
        if i is None:
            raise KeyError(f"form {self.form!r} has no field {field!r}")
        m = self.abandon_field == i
        return AbandonList(field, self.abandon_session[m], self.abandon_t[m], self.abandon_pageview[m])

    @property
    def start_rate(self) -> float:
        return self.started / self.viewed if self.viewed else float("nan")

    @property
    def completion_rate(self) -> float:
        return self.completed / self.started if self.started else float("nan")

    def header(self) -> str:
        """One line: "Form 'signup': 612 viewed · 468 started · 98 completed · 370 abandoned — …"."""
        text = (f"Form '{self.form}': {self.viewed:,} viewed · {self.started:,} started · "
                f"{self.completed:,} completed · {self.abandoned:,} abandoned")
        top = self.top_abandon_field
        if top is not None:
            text += f" — most abandoned at {top.title} ({top.dropoff_pct:.0f}%)"
        return text

    def as_dict(self) -> dict:
        top = self.top_abandon_field
        return {
            "form": self.form, "url": self.url, "device": self.device, "viewed": self.viewed,
            "started": self.started, "completed": self.completed, "abandoned": self.abandoned,
            "top_abandon_field": top.name if top else None,
            "fields": [f.as_dict() for f in self.fields],
        }


# --------------------------------------------------------------------------------------
# Computation
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FormEvents:
    """Loaded events of a form's page plus per-event field and form membership."""

    ref: FormRef
    ce: CaptureEvents
    names: tuple[str, ...]
    labels: tuple[str, ...]
    selectors: tuple[str, ...]
    ev_field: np.ndarray      # (n,) int, field index per event (-1: not a field of the form)
    ev_in_form: np.ndarray    # (n,) bool, target is an element of the form
    session_device: np.ndarray  # (s,) object, device of each session (its snapshot's)


def _load(capture: Capture, ref: FormRef, flt: SessionFilter | None, session_range=None) -> _FormEvents:
    names: list[str] = []
    labels: dict[str, str] = {}
    selectors: dict[str, str] = {}
    maps = {}
    for snap in ref.snapshot_ids:
        emap = capture.elements(snap)
        maps[snap] = emap
        for i, (f, fld) in enumerate(zip(emap.form, emap.field)):
            if f == ref.form and fld:
                if fld not in labels:
                    names.append(fld)
                    labels[fld] = emap.label[i]
                    selectors[fld] = emap.selector[i]
    code = {n: i for i, n in enumerate(names)}
    # One lookup table over all snapshots: base offset per snapshot + element index.
    base, field_tab, form_tab, dev_of_snap = {}, [], [], {}
    offset = 0
    for snap, dev in zip(ref.snapshot_ids, ref.devices):
        emap = maps[snap]
        base[snap] = offset
        field_tab.extend(code[fld] if (f == ref.form and fld) else -1 for f, fld in zip(emap.form, emap.field))
        form_tab.extend(f == ref.form for f in emap.form)
        offset += len(emap)
        dev_of_snap[snap] = dev
    field_tab_a = np.asarray(field_tab + [-1], dtype=np.int64)  # last entry: "no element"
    form_tab_a = np.asarray(form_tab + [False], dtype=bool)

    ce = load_events(capture, kinds=FORM_EVENT_KINDS, flt=flt, snapshot_ids=ref.snapshot_ids,
                     session_range=session_range)
    ev = ce.events
    snap = ce.pv_snapshot[ce.pv]
    snap_base = np.zeros(snap.size, np.int64)
    snap_len = np.zeros(snap.size, np.int64)
    for s in ref.snapshot_ids:
        m = snap == s
        snap_base[m] = base[s]
        snap_len[m] = len(maps[s])
    tg = ev.target.astype(np.int64)
    valid = (tg >= 0) & (tg < snap_len)
    g = np.where(valid, snap_base + tg, field_tab_a.size - 1)
    # A session's device is that of its (first) snapshot of the page.
    first_pv = np.searchsorted(ce.pv_srank, np.arange(ce.session_ids.size))
    session_device = np.asarray([dev_of_snap[int(s)] for s in ce.pv_snapshot[first_pv]], dtype=object)
    return _FormEvents(ref, ce, tuple(names), tuple(labels[n] for n in names), tuple(selectors[n] for n in names),
                       field_tab_a[g], form_tab_a[g], session_device)


def _median(a: np.ndarray) -> float:
    return float(np.median(a)) if a.size else float("nan")


def _mean(a: np.ndarray) -> float:
    return float(np.mean(a)) if a.size else float("nan")


@dataclass
class FormRows:
    """What a form report is made of, per session and per (session, field): small, exact and
    combinable (a partition's rows concatenate with another's; see :func:`merge_form_rows`).

    Sessions (s,): ``session_ids`` (sorted), ``device`` (index into the form's devices,
    ``dict.fromkeys(ref.devices)``), ``started``, ``completed``, and for a
    session that touched a field, the last field it touched (``last_field``, -1 none) with the
    time and pageview id of that event. Pairs (k,): ``pair_srank`` (row of the session),
    ``pair_field``, ``touched``, ``tfi`` (ms from the page's load to the first focus; NaN none),
    ``time_ms`` (time in the field; NaN when never focused), ``returns`` / ``corrections`` /
    ``validations`` (event counts) and ``blank`` (focused, and left empty).
    """

    ref: FormRef
    names: tuple[str, ...]
    labels: tuple[str, ...]
    selectors: tuple[str, ...]
    session_ids: np.ndarray
    device: np.ndarray
    started: np.ndarray
    completed: np.ndarray
    last_field: np.ndarray
    last_t: np.ndarray
    last_pv: np.ndarray
    pair_srank: np.ndarray
    pair_field: np.ndarray
    touched: np.ndarray
    tfi: np.ndarray
    time_ms: np.ndarray
    returns: np.ndarray
    corrections: np.ndarray
    validations: np.ndarray
    blank: np.ndarray


def form_rows(fe: _FormEvents) -> FormRows:
    """The per-session and per-(session, field) rows of loaded form events (the kernel: every
    figure of a report is a count, sum or median over these rows)."""
    ce, ev = fe.ce, fe.ce.events
    nf = len(fe.names)
    ns = ce.session_ids.size
    ev_srank = ce.pv_srank[ce.pv]
    kind = ev.kind
    fld = fe.ev_field
    t = ev.t.astype(np.int64)
    m = max(nf, 1)

    on_field = fld >= 0
    touch = on_field & ((kind == EventKind.FOCUS) | (kind == EventKind.INPUT))
    started = np.zeros(ns, dtype=bool)
    started[ev_srank[touch]] = True
    completed = np.zeros(ns, dtype=bool)
    completed[ev_srank[(kind == EventKind.SUBMIT) & fe.ev_in_form]] = True

    # Every (session, field) pair with an event on the field, in (session, field) order.
    pair_keys = np.unique(ev_srank[on_field] * m + fld[on_field])

    def pair_index(keys: np.ndarray) -> np.ndarray:
        return np.searchsorted(pair_keys, keys)

    def count_per_pair(mask: np.ndarray) -> np.ndarray:
        return np.bincount(pair_index(ev_srank[mask] * m + fld[mask]), minlength=pair_keys.size)

    touched = count_per_pair(touch) > 0

    # Time to first interaction: first FOCUS per (session, field), from the page's load.
    foc = np.flatnonzero(on_field & (kind == EventKind.FOCUS))
    key = ev_srank[foc] * m + fld[foc]
    uk, first = np.unique(key, return_index=True)  # rows are in session-time order
    f_rows = foc[first]
    pv = ce.pv[f_rows]
    tfi = np.full(pair_keys.size, np.nan)
    tfi[pair_index(uk)] = t[f_rows] - (ce.pv_start[pv] + ce.pv_load[pv])

    # Sort field events by (pageview, field, row) to walk each field's history per pageview.
    fe_rows = np.flatnonzero(on_field & np.isin(kind, _INTERACTION))
    order = np.lexsort((fe_rows, fld[fe_rows], ce.pv[fe_rows]))
    r = fe_rows[order]
    rk, rpv, rf, rt = kind[r], ce.pv[r], fld[r], t[r]
    n = r.size
    grp_start = np.ones(n, dtype=bool)
    grp_start[1:] = (rpv[1:] != rpv[:-1]) | (rf[1:] != rf[:-1])
    grp_id = np.cumsum(grp_start) - 1
    # Length of the field at each event: the value of the group's last INPUT so far.
    pos = np.arange(n)
    last_in = np.maximum.accumulate(np.where(rk == EventKind.INPUT, pos, -1)) if n else pos
    has_in = (last_in >= 0) & (grp_id[np.maximum(last_in, 0)] == grp_id)
    length = np.where(has_in, ev.value[r[np.maximum(last_in, 0)]].astype(np.int64), 0) if n else pos
    # Time in field: each FOCUS to the group's next event if it is a BLUR, else pageview end.
    is_focus = rk == EventKind.FOCUS
    # the next FOCUS/BLUR of the group (INPUTs in between do not end a visit)
    fb = np.flatnonzero(rk != EventKind.INPUT)
    nxt_fb = np.full(n, -1)
    if fb.size:
        nxt_idx = np.searchsorted(fb, pos, side="right")
        ok = nxt_idx < fb.size
        cand = fb[np.minimum(nxt_idx, fb.size - 1)]
        nxt_fb = np.where(ok & (grp_id[cand] == grp_id), cand, -1)
    ends_blur = (nxt_fb >= 0) & (rk[np.maximum(nxt_fb, 0)] == EventKind.BLUR)
    end_t = np.where(ends_blur, rt[np.maximum(nxt_fb, 0)], ce.pv_end[rpv])
    dur = np.maximum(end_t - rt, 0)
    fi = np.flatnonzero(is_focus)
    fkey = pair_index(ce.pv_srank[rpv[fi]] * m + rf[fi])
    time_ms = np.bincount(fkey, weights=dur[fi], minlength=pair_keys.size)
    has_time = np.bincount(fkey, minlength=pair_keys.size) > 0
    time_ms = np.where(has_time, time_ms, np.nan)
    # Returns: a FOCUS after a BLUR of the same field (same pageview) with data entered.
    blurs_before = np.cumsum(rk == EventKind.BLUR)
    grp_first_pos = np.flatnonzero(grp_start)[grp_id] if n else pos
    blur_count_before = blurs_before - np.where(grp_first_pos > 0, blurs_before[np.maximum(grp_first_pos - 1, 0)], 0)
    blur_count_before = blur_count_before - (rk == EventKind.BLUR)
    is_return = is_focus & (blur_count_before > 0) & (length > 0)
    # Corrections: an INPUT shorter than the group's previous length.
    prev_len = np.zeros(n, np.int64)
    prev_len[1:] = np.where(grp_start[1:], 0, length[:-1])
    is_corr = (rk == EventKind.INPUT) & (ev.value[r].astype(np.int64) < prev_len)

    def per_pair_of_sorted(mask: np.ndarray) -> np.ndarray:
        rows = r[mask]
        return np.bincount(pair_index(ev_srank[rows] * m + fld[rows]), minlength=pair_keys.size)

    # Left blank: focused, and the last known length in the session is 0.
    focused = np.zeros(pair_keys.size, dtype=bool)
    focused[pair_index(uk)] = True
    inp = np.flatnonzero(on_field & (kind == EventKind.INPUT))
    ikey = ev_srank[inp] * m + fld[inp]
    # last INPUT per (session, field): rows are time-ordered within a session
    uik, last_pos = np.unique(ikey[::-1], return_index=True)
    last_val = ev.value[inp[::-1][last_pos]].astype(np.int64)
    filled = np.zeros(pair_keys.size, dtype=bool)
    filled[pair_index(uik[last_val > 0])] = True

    # The last field each session touched, and when (its drop-off field if it abandons).
    in_rows = np.flatnonzero(on_field & np.isin(kind, _INTERACTION))
    sr = ev_srank[in_rows]
    last_idx = np.flatnonzero(np.r_[sr[1:] != sr[:-1], True]) if in_rows.size else np.zeros(0, np.int64)
    last_rows = in_rows[last_idx]
    last_field = np.full(ns, -1, np.int64)
    last_t = np.zeros(ns, np.int64)
    last_pv = np.zeros(ns, np.int64)
    last_field[sr[last_idx]] = fld[last_rows]
    last_t[sr[last_idx]] = t[last_rows]
    last_pv[sr[last_idx]] = ce.pv_id[ce.pv[last_rows]]

    return FormRows(fe.ref, fe.names, fe.labels, fe.selectors, ce.session_ids.astype(np.int64),
                    _device_codes(fe.ref, fe.session_device), started, completed,
                    last_field, last_t, last_pv,
                    (pair_keys // m).astype(np.int64), (pair_keys % m).astype(np.int32), touched, tfi, time_ms,
                    per_pair_of_sorted(is_return).astype(np.int32), per_pair_of_sorted(is_corr).astype(np.int32),
                    count_per_pair(on_field & (kind == EventKind.VALIDATION)).astype(np.int32),
                    focused & ~filled)


def _device_codes(ref: FormRef, session_device) -> np.ndarray:
    """Each session's device as its index among the form's devices (``dict.fromkeys(ref.devices)``):
    a byte a session to send and compare, not a string."""
    names = list(dict.fromkeys(ref.devices))
    code = {d: i for i, d in enumerate(names)}
    return np.fromiter((code[d] for d in session_device), dtype=np.int8, count=len(session_device))


def _device_mask(rows: "FormRows", device: str) -> np.ndarray:
    return rows.device == list(dict.fromkeys(rows.ref.devices)).index(device)


def merge_form_rows(parts: list[FormRows]) -> FormRows:
    """One ``FormRows`` of the parts' (disjoint) sessions, in session id order (its pairs in
    the parts' order): the report of it is the report of all of them loaded together."""
    parts = [p for p in parts if p is not None]
    if len(parts) == 1:
        return parts[0]
    sids = np.concatenate([p.session_ids for p in parts])
    order = np.argsort(sids, kind="stable")
    new_rank = np.empty(order.size, np.int64)
    new_rank[order] = np.arange(order.size)
    offsets = np.cumsum([0] + [p.session_ids.size for p in parts])[:-1]
    srank = new_rank[np.concatenate([p.pair_srank + o for p, o in zip(parts, offsets)])]

    def sess(name):
        return np.concatenate([getattr(p, name) for p in parts])[order]

    def pair(name):
        # pairs stay in the parts' order: every figure of a report is a count, a sum of whole
        # ms or a median over them, none depends on their order (the sessions' order matters)
        return np.concatenate([getattr(p, name) for p in parts])

    p0 = parts[0]
    return FormRows(p0.ref, p0.names, p0.labels, p0.selectors, sids[order], sess("device"), sess("started"),
                    sess("completed"), sess("last_field"), sess("last_t"), sess("last_pv"),
                    srank, pair("pair_field"), pair("touched"), pair("tfi"), pair("time_ms"),
                    pair("returns"), pair("corrections"), pair("validations"), pair("blank"))


def report_from_rows(rows: FormRows, session_mask: np.ndarray, device: str | None) -> FormReport:
    """The report of the sessions ``session_mask`` keeps (counts, medians over the rows)."""
    nf = len(rows.names)
    keep = session_mask[rows.pair_srank] if rows.pair_srank.size else np.zeros(0, dtype=bool)
    fld = rows.pair_field

    def sessions(mask: np.ndarray) -> np.ndarray:
        return np.bincount(fld[keep & mask], minlength=nf)[:nf]

    def events(counts: np.ndarray) -> np.ndarray:
        return np.bincount(fld[keep], weights=counts[keep], minlength=nf)[:nf].astype(np.int64)

    started = rows.started & session_mask
    completed = rows.completed & session_mask
    abandoned = started & ~completed
    n_abandoned = int(np.count_nonzero(abandoned))
    ab = np.flatnonzero(abandoned & (rows.last_field >= 0))
    ab_field = rows.last_field[ab]
    drop = np.bincount(ab_field, minlength=nf)[:nf] if nf else np.zeros(0, np.int64)
    interacted = sessions(rows.touched)
    ret_ev, cor_ev, val_ev = events(rows.returns), events(rows.corrections), events(rows.validations)
    ret_s, cor_s, val_s = sessions(rows.returns > 0), sessions(rows.corrections > 0), sessions(rows.validations > 0)
    blank = sessions(rows.blank)
    has_tfi = keep & ~np.isnan(rows.tfi)
    has_time = keep & ~np.isnan(rows.time_ms)

    stats = []
    for i, name in enumerate(rows.names):
        tfi_i = rows.tfi[has_tfi & (fld == i)]
        stats.append(FieldStats(
            name=name, title=field_title(name), label=rows.labels[i], selector=rows.selectors[i], order=i,
            interacted=int(interacted[i]),
            first_interaction_median_ms=_median(tfi_i),
            first_interaction_mean_ms=_mean(tfi_i),
            time_in_field_median_ms=_median(rows.time_ms[has_time & (fld == i)]),
            returns_events=int(ret_ev[i]), returns=int(ret_s[i]),
            corrections_events=int(cor_ev[i]), corrections=int(cor_s[i]),
            left_blank=int(blank[i]),
            validation_events=int(val_ev[i]), validation_errors=int(val_s[i]),
            dropoff=int(drop[i]), dropoff_pct=float(100.0 * drop[i] / n_abandoned) if n_abandoned else 0.0,
        ))
    return FormReport(rows.ref.form, rows.ref.url, device, int(np.count_nonzero(session_mask)),
                      int(np.count_nonzero(started)), int(np.count_nonzero(completed)), n_abandoned, tuple(stats),
                      rows.session_ids[ab], ab_field, rows.last_t[ab], rows.last_pv[ab])


#: Sessions whose form-page events a capture's form report holds at once (bounded memory).
FORM_BATCH_SESSIONS = 16_384


def _rows(capture: Capture, ref: FormRef, flt: SessionFilter | None) -> FormRows:
    """The form's rows of a capture, a batch of sessions at a time: each batch's events are
    loaded, turned into rows and dropped, and the rows of the disjoint batches merge into the
    rows of all (:func:`merge_form_rows`, as a dataset's partitions do), as signals are batched."""
    if isinstance(capture, Capture):
        ids = capture.session_ids(flt)
        if ids.size > FORM_BATCH_SESSIONS:
            return merge_form_rows([form_rows(_load(capture, ref, flt, r))
                                    for r in session_ranges(ids, FORM_BATCH_SESSIONS)])
    return form_rows(_load(capture, ref, flt))


def form_events(capture: Capture, ref: FormRef, flt: SessionFilter | None = None) -> _FormEvents:
    """The events a form report reads (one capture or one dataset partition; its :func:`form_rows` combine with :func:`merge_form_rows`)."""
    return _load(capture, ref, flt)


def reports_from_rows(rows: FormRows, device: str | None = None, split: bool = False
                      ) -> dict[str | None, FormReport]:
    """``{device: report}`` (``split``: all devices under None, then each) from a form's rows."""
    everyone = np.ones(rows.session_ids.size, dtype=bool)
    if not split:
        return {device: report_from_rows(rows, everyone, device)}
    out = {None: report_from_rows(rows, everyone, None)}
    out.update({dev: report_from_rows(rows, _device_mask(rows, dev), dev) for dev in dict.fromkeys(rows.ref.devices)})
    return out


def reports_from_events(fe: _FormEvents, device: str | None = None, split: bool = False
                        ) -> dict[str | None, FormReport]:
    """``{device: report}`` (``split``: all devices under None, then each) from loaded form events."""
    return reports_from_rows(form_rows(fe), device, split)


def form_report(capture: Capture, form: str | None = None, page_url: str | None = None,
                device: str | None = None, flt: SessionFilter | None = None) -> FormReport:
    """Form analytics for ``form`` on ``page_url`` (defaults: the capture's first form).

    Parameters
    ----------
    capture : Capture
    form : str, optional
        Form name (the elements' ``form``); default: the first form found.
    page_url : str, optional
        The page holding the form; default: the first page with that form.
    device : str, optional
        Only this device's snapshot of the page (default: all devices together).
    flt : SessionFilter, optional
        Only sessions matching it.
    """
    ref = find_form(capture, form, page_url, device)
    rows = _rows(capture, ref, flt)
    return report_from_rows(rows, np.ones(rows.session_ids.size, dtype=bool), device)


def device_split(capture: Capture, form: str | None = None, page_url: str | None = None,
                 flt: SessionFilter | None = None) -> dict[str, FormReport]:
    """The same figures per device (events loaded once), in snapshot order."""
    ref = find_form(capture, form, page_url)
    rows = _rows(capture, ref, flt)
    return {dev: report_from_rows(rows, _device_mask(rows, dev), dev) for dev in dict.fromkeys(ref.devices)}


def form_reports(capture: Capture, form: str | None = None, page_url: str | None = None,
                 flt: SessionFilter | None = None) -> dict[str | None, FormReport]:
    """All devices together (key None) and each device, from one load of the events."""
    ref = find_form(capture, form, page_url)
    return reports_from_rows(_rows(capture, ref, flt), split=True)
