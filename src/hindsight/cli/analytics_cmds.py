"""``hindsight signals``, ``hindsight forms`` and ``hindsight funnel``: which sessions to watch,
how a form performs field by field, and where a funnel loses people."""

from __future__ import annotations

import argparse
import math
from collections import Counter


from hindsight.text import plural
from hindsight.analytics.forms import device_split, form_report
from hindsight.analytics.funnel import funnel, parse_step
from hindsight.analytics.session_index import SCORE_WEIGHTS, SessionIndex
from hindsight.analytics.signals import SIGNAL_KINDS, SIGNAL_LABELS, compute_signals
from hindsight.cli import UsageError
from hindsight.cli.args import non_negative_int
from hindsight.cli.capture_cmds import add_filter_arguments, filter_from_args
from hindsight.cli.output import duration, print_json, print_table
from hindsight.cli.dataset_source import is_dataset_source, open_source

_SHORT = {"rage_click": "rage", "dead_click": "dead", "error_click": "error", "excessive_scroll": "scroll",
          "quick_back": "back", "thrashed_cursor": "thrash", "validation_error": "invalid"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("signals", help="frustration signals per kind and the sessions most worth watching")
    p.add_argument("file")
    add_filter_arguments(p)
    p.add_argument("--top", type=non_negative_int, default=10, metavar="N", help="sessions to list (default 10)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_signals)

    p = sub.add_parser("forms", help="form analytics: starts, completions, abandons and per-field figures")
    p.add_argument("file")
    p.add_argument("--form", default=None, help="form name (default: the first form found)")
    p.add_argument("--page", default=None, metavar="URL", help="page holding the form (a URL or pattern: its page group)")
    p.add_argument("--device", default=None, help="only this device's sessions (desktop, tablet, mobile)")
    p.add_argument("--by-device", action="store_true", help="also the summary per device")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_forms)

    p = sub.add_parser("funnel", help="sessions reaching ordered steps (page URLs and event:NAME)")
    p.add_argument("file")
    p.add_argument("--step", action="append", default=[], metavar="URL_OR_event:NAME",
                   help="a step, in order (repeat for each step)")
    add_filter_arguments(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_funnel)


# -- signals -----------------------------------------------------------------------------


def cmd_signals(args: argparse.Namespace) -> int:
    if args.top < 0:
        raise UsageError("--top must be 0 or more")
    with open_source(args) as cap:
        flt = filter_from_args(args, cap)
        ids = cap.session_ids(flt)
        table = cap.signals(flt=flt) if is_dataset_source(cap) else compute_signals(cap, flt=flt)
        index = SessionIndex.from_signals(ids, table)
        top = index.top(args.top)
        sessions = cap.session_table(flt.replace(session_ids=tuple(int(s) for s in index.session_ids[top])))
    meta = {int(s): i for i, s in enumerate(sessions["session_id"].tolist())}
    names = table.kind_names()
    summary = index.summary()   # the Signals panel's figures, from the same core function
    kinds = []
    for kind in SIGNAL_KINDS:
        m = names == kind
        elements = Counter(s for s in table.selector[m].tolist() if s)
        row = summary.kinds[kind]
        kinds.append({
            "kind": kind, "label": SIGNAL_LABELS[kind], "signals": row.signals, "clicks": row.clicks,
            "sessions": row.sessions,
            "top_elements": [{"selector": s, "signals": n} for s, n in elements.most_common(3)],
        })
    top_rows = []
    for r in top.tolist():
        sid = int(index.session_ids[r])
        i = meta.get(sid)
        top_rows.append({
            "session_id": sid, "score": float(index.score[r]),
            "device": sessions["device"][i] if i is not None else "",
            "duration_ms": int(sessions["duration_ms"][i]) if i is not None else 0,
            "counts": {k: int(index.counts[k][r]) for k in SIGNAL_KINDS},
        })
    if args.json:
        print_json({"sessions": len(index), "kinds": kinds, "score_weights": SCORE_WEIGHTS, "top": top_rows})
        return 0
    n = len(index)
    print(f"Frustration signals in {plural(n, 'session')} of {args.file}")
    print_table(
        ["signal", "signals", "sessions", "% sessions", "top elements"],
        [[k["label"], f"{k['signals']:,}", f"{k['sessions']:,}", f"{100 * k['sessions'] / n:.1f}%" if n else "-",
          ", ".join(f"{e['selector']} ({e['signals']})" for e in k["top_elements"])] for k in kinds],
        right=(1, 2, 3),
    )
    if top_rows:
        print()
        print(f"Top {plural(len(top_rows), 'session')} by frustration score")
        print_table(
            ["session", "score", "device", "duration"] + [_SHORT[k] for k in SIGNAL_KINDS],
            [[r["session_id"], f"{r['score']:.1f}", r["device"], duration(r["duration_ms"])]
             + [r["counts"][k] or "" for k in SIGNAL_KINDS] for r in top_rows],
            right=tuple(range(0, 2)) + tuple(range(4, 4 + len(SIGNAL_KINDS))),
        )
    return 0


# -- forms -------------------------------------------------------------------------------


def _secs(ms: float) -> str:
    return "-" if ms is None or (isinstance(ms, float) and math.isnan(ms)) else f"{ms / 1000:.1f}s"


def cmd_forms(args: argparse.Namespace) -> int:
    with open_source(args) as cap:
        if is_dataset_source(cap):
            by_device = args.by_device and args.device is None
            reports = cap.form_reports(args.form, args.page, args.device, split=by_device)
            report = reports.pop(None) if by_device else reports[args.device]
            split = reports if by_device else {}
        else:
            report = form_report(cap, args.form, args.page, args.device)
            split = device_split(cap, report.form, report.url) if args.by_device and args.device is None else {}
    if args.json:
        out = report.as_dict()
        if split:
            out["devices"] = {d: {k: v for k, v in r.as_dict().items() if k != "fields"} for d, r in split.items()}
        print_json(out)
        return 0
    print(report.header())
    rate = (lambda a, b: f"{100 * a / b:.0f}%" if b else "-")
    print(f"  page {report.url}" + (f" ({report.device})" if report.device else " (all devices)")
          + f"; start rate {rate(report.started, report.viewed)}, completion rate "
            f"{rate(report.completed, report.started)} of starters")
    print()
    print_table(
        ["field", "interacted", "1st interaction", "time in field", "returns", "corrections", "left blank",
         "validation", "drop-off", "% of abandons"],
        [[f.title, f.interacted, _secs(f.first_interaction_median_ms), _secs(f.time_in_field_median_ms),
          f.returns, f.corrections, f.left_blank, f.validation_errors, f.dropoff, f"{f.dropoff_pct:.0f}%"]
         for f in report.fields],
        right=tuple(range(1, 10)),
    )
    print("  (sessions; times are medians: page load to first focus, and focus to blur summed per session)")
    for dev, r in split.items():
        print(f"  {dev:8s} {r.header()}")
    return 0


# -- funnel ------------------------------------------------------------------------------


def cmd_funnel(args: argparse.Namespace) -> int:
    if not args.step:
        raise UsageError("give the funnel's steps in order: --step URL --step event:NAME ...")
    try:
        steps = [parse_step(s) for s in args.step]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    with open_source(args) as cap:
        flt = filter_from_args(args, cap)
        report = cap.funnel(steps, flt) if is_dataset_source(cap) else funnel(cap, steps, flt=flt)
    if args.json:
        print_json(report.as_dict())
        return 0
    print(f"Funnel over {plural(report.session_ids.size, 'session')} of {args.file}")
    first = report.results[0].sessions or 1
    rows = []
    for i, r in enumerate(report.results):
        bar = "█" * int(round(30 * r.sessions / first))
        rows.append([i + 1, r.step.label, f"{r.sessions:,}", f"{100 * r.from_previous:.1f}%",
                     f"{100 * r.from_first:.1f}%", f"{r.dropped:,}" if i else "", bar])
    print_table(["#", "step", "sessions", "from previous", "from first", "dropped", ""], rows, right=(0, 2, 3, 4, 5))
    return 0
