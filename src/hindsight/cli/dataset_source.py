"""Opening what a CLI command was given: a capture file, or a dataset analysed on a Dask cluster."""

from __future__ import annotations

import argparse

#: The commands that accept a dataset (folder or URL) wherever they accept a capture.
DATASET_COMMANDS = ("info", "sessions", "heatmap", "signals", "forms", "funnel")


def add_scheduler_arguments(sub: argparse._SubParsersAction) -> None:
    for name in DATASET_COMMANDS:
        p = sub.choices.get(name)
        if p is not None:
            p.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                           help="for a dataset: the Dask scheduler to run on (default: $HINDSIGHT_SCHEDULER, "
                                "else a local cluster of one worker process per core)")


def open_source(args: argparse.Namespace):
    """A :class:`~hindsight.store.Capture`, or a :class:`~hindsight.engine.driver.DatasetCapture` when
    ``args.file`` is a dataset folder or URL."""
    from hindsight.engine.reader import is_dataset

    if is_dataset(args.file):
        from hindsight.engine.driver import open_dataset_capture

        return open_dataset_capture(args.file, scheduler=args.scheduler)
    from hindsight.store import open_capture

    return open_capture(args.file)


def is_dataset_source(cap) -> bool:
    from hindsight.engine.driver import DatasetCapture

    return isinstance(cap, DatasetCapture)
