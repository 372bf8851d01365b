"""``hindsight export dataset`` (capture -> Parquet dataset) and ``hindsight extract`` (back)."""

from __future__ import annotations

import argparse
import sys

from hindsight.cli.args import non_negative_int, output_path, positive_int
from hindsight.text import plural


def _dataset_url(text: str) -> str:
    if not text or not text.strip():
        raise argparse.ArgumentTypeError("an empty dataset path: give a folder or URL")
    return text


def register(sub: argparse._SubParsersAction) -> None:
    from hindsight.cli.args import OneLineParser

    p = sub.add_parser("export", help="write a capture in another form (dataset: Parquet files)")
    kinds = p.add_subparsers(dest="export_kind", metavar="KIND", parser_class=OneLineParser)
    d = kinds.add_parser("dataset", help="write a capture as a Parquet capture dataset, partitioned by day")
    d.add_argument("capture", metavar="CAPTURE", help="capture file (.sqlite)")
    d.add_argument("--out", type=_dataset_url, required=True, metavar="DIR",
                   help="dataset folder or fsspec URL (file://..., s3://... with s3fs installed); must be "
                        "new or empty")
    d.add_argument("--json", action="store_true", help="machine-readable summary")
    d.set_defaults(handler=cmd_export_dataset)

    x = sub.add_parser("extract", help="write a capture file holding a segment of a dataset")
    x.add_argument("dataset", metavar="DATASET", help="dataset folder or fsspec URL")
    from hindsight.cli.capture_cmds import add_filter_arguments

    add_filter_arguments(x)
    x.add_argument("--sample", type=positive_int, default=None, metavar="N",
                   help="at most N of the matching sessions, chosen at random (the same --seed gives the same ones)")
    x.add_argument("--seed", type=non_negative_int, default=0, metavar="S", help="random seed of --sample (default 0)")
    x.add_argument("--out", type=output_path, required=True, metavar="CAPTURE", help="capture file to write")
    x.add_argument("--force", action="store_true", help="replace CAPTURE if it exists")
    x.add_argument("--json", action="store_true", help="machine-readable summary")
    x.set_defaults(handler=cmd_extract)


def _progress(label: str):
    if not sys.stderr.isatty():
        return None

    def report(done: int, total: int) -> None:
        print(f"\r{label} {done:,}/{total:,} sessions", end="" if done < total else "\n", file=sys.stderr)
    return report


def cmd_export_dataset(args: argparse.Namespace) -> int:
    from hindsight.cli.output import print_json
    from hindsight.dataset.export import export_capture

    summary = export_capture(args.capture, args.out, progress=_progress("exporting"))
    if args.json:
        print_json(summary)
    else:
        print(f"wrote {args.out}: {plural(summary['sessions'], 'session')}, {summary['events']:,} events "
              f"in {summary['days']} day partition(s), {summary['files']} part files, {summary['seconds']:.1f} s")
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from hindsight.cli import UsageError
    from hindsight.cli.capture_cmds import workspace_filter_from_args
    from hindsight.cli.output import print_json
    from hindsight.dataset.extract import extract_dataset

    wf = workspace_filter_from_args(args)
    if wf.frustration or wf.abandoned_at:
        raise UsageError("--frustration and --abandoned-at need an analysis of the sessions: extract the "
                         "segment without them, then filter the extracted capture")
    if args.out.exists() and not args.force:
        raise UsageError(f"{args.out} already exists; pass --force to replace it")
    summary = extract_dataset(args.dataset, args.out, wf.sessions, sample=args.sample, seed=args.seed,
                              progress=_progress("extracting"), check_values=True)
    if args.json:
        print_json(summary)
    else:
        print(f"wrote {summary['path']}: {plural(summary['sessions'], 'session')} of {summary['matching']:,} "
              f"matching, {summary['events']:,} events in {summary['seconds']:.1f} s")
    return 0
