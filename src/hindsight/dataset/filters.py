"""A session filter as a pyarrow expression on a dataset's sessions table (one translation,
used by ``hindsight extract`` and by the engine's partition reader)."""

from __future__ import annotations

from hindsight.store.filters import SessionFilter


def session_filter_expression(flt: SessionFilter, ids_visited=None, ids_not_visited=None):
    """A pyarrow expression for the session columns of ``flt`` (None when it keeps every session)."""
    import pyarrow.compute as pc

    conds = []
    for column, values in flt.categories().items():
        if values:
            conds.append(pc.field(column).isin(list(values)))
    if flt.converted is not None:
        conds.append(pc.field("converted") == (1 if flt.converted else 0))
    if flt.min_duration_s is not None:
        conds.append(pc.field("duration_ms") >= int(flt.min_duration_s * 1000))
    if flt.max_duration_s is not None:
        conds.append(pc.field("duration_ms") <= int(flt.max_duration_s * 1000))
    if flt.start_from_ms is not None:
        conds.append(pc.field("start_ms") >= int(flt.start_from_ms))
    if flt.start_before_ms is not None:
        conds.append(pc.field("start_ms") < int(flt.start_before_ms))
    if flt.session_ids is not None:
        conds.append(pc.field("session_id").isin([int(i) for i in flt.session_ids]))
    if ids_visited is not None:
        conds.append(pc.field("session_id").isin(ids_visited))
    if ids_not_visited is not None:
        conds.append(~pc.field("session_id").isin(ids_not_visited))
    if not conds:
        return None
    expr = conds[0]
    for c in conds[1:]:
        expr = expr & c
    return expr
