"""Importers: bring recordings made by other tools into a capture.

``rrweb`` parses rrweb 1.x/2.x event arrays and PostHog recording exports;
``session_writer.import_files`` writes them (pages, snapshots, events) all-or-nothing;
``collector`` is a small HTTP endpoint that rrweb recorders can post to.
"""

from __future__ import annotations


def import_files(*args, **kwargs):
    """See :func:`hindsight.importers.session_writer.import_files`."""
    from hindsight.importers.session_writer import import_files as _import_files

    return _import_files(*args, **kwargs)


__all__ = ["import_files"]
