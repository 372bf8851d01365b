"""``hindsight heatmap``: export one page's heatmap (click, move, scroll, attention, rage, dead) as a PNG."""

from __future__ import annotations

import argparse
from pathlib import Path

from hindsight.cli import UsageError
from hindsight.cli.args import float_range, output_path, positive_int
from hindsight.cli.capture_cmds import add_filter_arguments, filter_from_args
from hindsight.cli.output import print_json, top_elements_json

KIND_CHOICES = ("click", "move", "scroll", "attention", "rage", "dead")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("heatmap", help="export a page's heatmap over its screenshot as a PNG")
    p.add_argument("file")
    p.add_argument("--page", required=True, metavar="URL|PATTERN",
                   help="page URL or pattern (its page group, see 'hindsight pages list'), e.g. "
                        "https://shop.example/product.html or /product/*")
    p.add_argument("--kind", choices=KIND_CHOICES, default="click",
                   help="click, move (cursor dwell), scroll (depth reached), attention (time in view), "
                        "rage or dead clicks (default click)")
    add_filter_arguments(p)  # --device picks the snapshot too (default desktop)
    p.add_argument("--width", type=positive_int, default=None, metavar="W",
                   help="draw on the page's screenshot W px wide (default: the one covering most sessions of "
                        "the device); clicks of every width are projected onto it through their element")
    p.add_argument("--snapshot", type=positive_int, default=None, metavar="ID",
                   help="draw on this snapshot (screenshot) of the page")
    p.add_argument("-o", "--output", type=output_path, metavar="PNG", default=None, help="write the image here")
    p.add_argument("--opacity", type=float_range(0.0, 1.0), default=0.6, help="overlay opacity 0..1 (default 0.6)")
    p.add_argument("--min-sessions", type=positive_int, default=None, metavar="N",
                   help="warn below this many sessions (default 1,000)")
    p.add_argument("--vs", metavar="SEGMENT", default=None,
                   help="compare: the segment given by the filter flags (A) minus this one (B), per "
                        "pageview; filter flags without dashes, e.g. --converted --vs not-converted, "
                        "--source paid --vs 'source=organic country=US,GB'")
    p.add_argument("--json", action="store_true", help="print sample size, warning and the top 10 elements")
    p.add_argument("--state", type=int, default=None, metavar="ID",
                   help="click map of one page state (a dialog open, an error shown...): the clicks made "
                        "while it showed, on its screenshot; --json lists the page's states")
    p.set_defaults(handler=cmd_heatmap)


def _segment_b(text: str, capture=None):
    import shlex

    sub = argparse.ArgumentParser(prog="hindsight heatmap --vs", add_help=False, exit_on_error=False)
    add_filter_arguments(sub)
    argv: list[str] = []
    for token in shlex.split(text):
        if token.startswith("-"):  # full flags work too (--vs='--source organic')
            argv.append(token)
            continue
        key, eq, value = token.partition("=")
        flag = "--" + key.replace("_", "-")
        if not eq:
            argv.append(flag)
        else:
            for v in value.split(","):
                argv += [flag, v]
    try:
        ns, rest = sub.parse_known_args(argv)
    except (argparse.ArgumentError, ValueError) as exc:
        raise UsageError(f"--vs: {exc}") from None
    if rest:
        raise UsageError(f"--vs takes filter flags only, not {' '.join(rest)!r}")
    return filter_from_args(ns, capture)   # the same rules as segment A (frustration, dates...)


def _describe(flt) -> str:
    from dataclasses import fields

    parts = []
    for f in fields(flt):
        v = getattr(flt, f.name)
        if f.name == "converted" and v is not None:
            parts.append("converted" if v else "not converted")
            continue
        if v in (None, (), False):
            continue
        parts.append(f"{f.name}={','.join(map(str, v)) if isinstance(v, tuple) else v}")
    return " ".join(parts) or "all sessions"


def cmd_heatmap(args: argparse.Namespace) -> int:
    from hindsight.analytics.heatmap import MIN_SESSIONS, HeatmapEngine, choose_snapshot
    from hindsight.analytics.page_groups import capture_groups, heatmap_pages
    from hindsight.analytics.heatmap_display import display_scale
    from hindsight.store import open_capture

    if not 0.0 <= args.opacity <= 1.0:
        raise UsageError(f"--opacity must be between 0 and 1, not {args.opacity}")
    if len(args.device) > 1:
        raise UsageError("a heatmap shows one device's page layout: give --device once")
    if args.output is None and not args.json:
        raise UsageError("nothing to do: give -o PNG and/or --json")
    device = args.device[0] if args.device else "desktop"
    if args.output is not None and not Path(args.output).resolve().parent.is_dir():
        raise UsageError(f"cannot write {args.output}: its folder does not exist")
    from hindsight.cli.dataset_source import is_dataset_source, open_source

    with open_source(args) as cap:
        flt = filter_from_args(args, cap)
        on_dataset = is_dataset_source(cap)
        if on_dataset:
            if args.state is not None:
                raise UsageError("--state is not supported on a dataset")
            from hindsight.engine.driver import DatasetHeatmaps

            engine = DatasetHeatmaps(cap, min_sessions=args.min_sessions or MIN_SESSIONS)
        else:
            engine = HeatmapEngine(cap, min_sessions=args.min_sessions or MIN_SESSIONS)
        if args.width is not None and args.snapshot is not None:
            raise UsageError("give --width or --snapshot, not both")
        try:
            group = capture_groups(cap).resolve(args.page)
            pages = heatmap_pages(group)
            snap = choose_snapshot(cap, engine, group.key, device, width=args.width, snapshot_id=args.snapshot,
                                   pages=pages)
        except KeyError as exc:
            raise UsageError(exc.args[0]) from None
        device = snap.device
        if args.state is not None:
            from hindsight.cli.heatmap_states import state_heatmap_cmd

            return state_heatmap_cmd(args, cap, snap, device, flt)
        if args.vs is not None:
            return _compare(args, cap, engine, snap, device, flt, _segment_b(args.vs, cap), pages)
        result = engine.compute(snap.snapshot_id, args.kind, flt, pages=pages)
        if args.output:
            # The same picture as the app's "Save image…" (one function draws both).
            from hindsight.analytics.heatmap_export import heatmap_image, save_png

            save_png(heatmap_image(cap, snap, args.kind, flt, page_url=group.key, engine=engine,
                                   opacity=args.opacity, pages=pages), args.output)
        table = engine.element_table(snap.snapshot_id, flt, pages=pages) if args.json else []
        from hindsight.store.states import snapshot_states

        states = [] if on_dataset else snapshot_states(cap, snap.snapshot_id)  # page states, for --state
    if args.json:
        out = {
            "page": args.page, "pattern": group.key, "urls": list(group.urls),
            "device": device, "snapshot_id": snap.snapshot_id, "width": snap.width,
            "kind": args.kind, "coverage": result.coverage.to_dict(),
            "grid_total": round(float(result.counts.sum()), 4),   # points (or s, %) the grid holds
            "sample": result.sample.to_dict(), "warning": result.warning, "note": result.note,
            "legend": result.legend_text(), "levels": list(result.levels),
            "display_levels": list(display_scale(result).levels),
            "top_elements": top_elements_json(table, args.kind),
        }
        out["states"] = states
        if result.scroll is not None:
            out["scroll"] = {label: round(depth, 1) for label, depth in result.scroll.lines()}
        if args.output:
            out["output"] = str(args.output)
        print_json(out)
    else:
        print(f"wrote {args.output}: {result.title.lower()} of {args.page} ({device}), {result.sample.badge()}")
        print(result.coverage.header())
        for line in result.coverage.notes():
            print(f"note: {line}")
        if result.warning:
            print(f"warning: {result.warning}")
        if result.note:
            print(f"note: {result.note}")
    return 0


def _compare(args, cap, engine, snap, device, flt_a, flt_b, pages=None) -> int:
    cmp = engine.compare(snap.snapshot_id, args.kind, flt_a, flt_b, pages=pages)
    names = (_describe(flt_a), _describe(flt_b))
    if args.output:
        from hindsight.analytics.heatmap_export import compare_image, save_png

        save_png(compare_image(cap, snap, args.kind, flt_a, flt_b, names, page_url=args.page, engine=engine,
                               opacity=args.opacity, pages=pages), args.output)
    if args.json:
        print_json({"page": args.page, "device": device, "kind": args.kind, "unit": cmp.unit,
                    "levels": list(cmp.levels),
                    "a": {"segment": names[0], "sample": cmp.a.sample.to_dict()},
                    "b": {"segment": names[1], "sample": cmp.b.sample.to_dict()},
                    **({"output": str(args.output)} if args.output else {})})
    else:
        print(f"wrote {args.output}: {cmp.a.title.lower()} of {args.page} ({device}), A − B per pageview")
        print(cmp.a.coverage.header())
        for tag, name, r in (("A", names[0], cmp.a), ("B", names[1], cmp.b)):
            print(f"  {tag} {name}: {r.sample.badge()}" + (f"  (warning: {r.warning})" if r.warning else ""))
    return 0
