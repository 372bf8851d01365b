"""``hindsight heatmap --state ID``: the click map of one page state (see analytics/state_heatmap.py)."""

from __future__ import annotations


def state_heatmap_cmd(args, cap, snap, device: str, flt) -> int:
    from hindsight.analytics.state_heatmap import state_click_heatmap, state_heatmap_image
    from hindsight.analytics.heatmap_export import save_png
    from hindsight.cli import UsageError
    from hindsight.cli.output import print_json
    from hindsight.store.states import snapshot_states, state_info

    info = state_info(cap, args.state)
    if info is None or info["snapshot_id"] != snap.snapshot_id:
        known = ", ".join(f"{s['state_id']} ({s['label']})" for s in snapshot_states(cap, snap.snapshot_id))
        raise UsageError(f"{args.page} ({device}) has no page state {args.state}"
                         + (f"; its states: {known}" if known else "; it has no page states"))
    if args.kind not in ("click",):
        raise UsageError(f"a page state has a click map only, not --kind {args.kind}")
    if args.output:
        img, result = state_heatmap_image(cap, args.state, flt, page_url=args.page, opacity=args.opacity,
                                          min_sessions=args.min_sessions)
        save_png(img, args.output)
    else:
        result = state_click_heatmap(cap, args.state, flt, args.min_sessions)
    if args.json:
        from hindsight.analytics.heatmap import HeatmapEngine
        from hindsight.cli.output import top_elements_json

        table = HeatmapEngine(cap).element_table(snap.snapshot_id, flt, state_id=args.state)
        out = {"page": args.page, "device": device, "snapshot_id": snap.snapshot_id, "state": info,
               "kind": "click", "sample": result.sample.to_dict(), "warning": result.warning,
               "top_elements": top_elements_json(table, "click")}
        if args.output:
            out["output"] = str(args.output)
        print_json(out)
    else:
        print(f"wrote {args.output}: click map of {args.page} ({device}) in state {args.state} "
              f"({info['label']}), {result.sample.badge()}")
    return 0
