"""``hindsight bench`` sections for signals, forms and funnels."""

from __future__ import annotations

from hindsight.analytics.signals import SIGNAL_EVENT_KINDS, load_events, signals_from_events

def _bench_signals(ctx) -> dict:
    """Whole-capture signal detection: load (decode) and detect, timed apart."""
    import time

    from hindsight.store.reader import open_capture

    with open_capture(ctx.path) as cap:
        t0, c0 = time.perf_counter(), time.process_time()
        ce = load_events(cap, kinds=SIGNAL_EVENT_KINDS)
        t1, c1 = time.perf_counter(), time.process_time()
        table = signals_from_events(ce, cap)
        t2, c2 = time.perf_counter(), time.process_time()
    # CPU time next to wall time: on a shared machine the wall time mostly measures the others.
    return {"sessions": int(ce.session_ids.size), "events_scanned": len(ce), "signals": len(table),
            "load_seconds": round(t1 - t0, 3), "load_cpu_seconds": round(c1 - c0, 3),
            "detect_seconds": round(t2 - t1, 3), "detect_cpu_seconds": round(c2 - c1, 3),
            "total_seconds": round(t2 - t0, 3), "events_per_s": round(len(ce) / max(t2 - t0, 1e-9))}


def _bench_forms_funnel(ctx) -> dict:
    import time

    from hindsight.analytics.forms import form_report
    from hindsight.analytics.funnel import funnel
    from hindsight.store.reader import open_capture

    with open_capture(ctx.path) as cap:
        t0, c0 = time.perf_counter(), time.process_time()
        report = form_report(cap)
        t1, c1 = time.perf_counter(), time.process_time()
        urls = [p.url for p in cap.pages()]
        names = sorted(cap.strings().values())
        steps = urls + [f"event:{n}" for n in names if n == "signup_completed"]
        fun = funnel(cap, steps)
        t2, c2 = time.perf_counter(), time.process_time()
    return {"form_viewed": report.viewed, "form_seconds": round(t1 - t0, 3), "form_cpu_seconds": round(c1 - c0, 3),
            "funnel_steps": len(steps), "funnel_sessions": int(fun.session_ids.size),
            "funnel_seconds": round(t2 - t1, 3), "funnel_cpu_seconds": round(c2 - c1, 3)}


BENCHMARKS = [
    ("analytics.signals", _bench_signals),
    ("analytics.forms_funnel", _bench_forms_funnel),
]
