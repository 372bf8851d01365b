"""``hindsight import rrweb`` (recording files -> capture) and ``hindsight collect`` (HTTP endpoint)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from hindsight.cli.args import int_range, output_path, positive_float
from hindsight.text import plural
from hindsight.cli.output import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import recordings made by other tools (rrweb, PostHog exports)")
    fmt = p.add_subparsers(dest="import_format", metavar="FORMAT")
    r = fmt.add_parser(
        "rrweb", help="rrweb 1.x/2.x JSON event arrays or PostHog recording exports, one session per file",
        description="Import rrweb recordings (one JSON file per session: an array of rrweb events, or "
                    "PostHog's exported recording JSON). All or nothing: on any problem the capture is "
                    "left as it was and the exit code is 2.")
    r.add_argument("files", nargs="+", metavar="FILE", help="recording files (.json, .json.gz)")
    r.add_argument("--out", type=output_path, required=True, metavar="CAPTURE", help="capture file to create (or add to, with --append)")
    r.add_argument("--append", action="store_true", help="add the sessions to an existing capture (one transaction)")
    r.add_argument("--overwrite", action="store_true", help="replace CAPTURE if it exists")
    r.add_argument("--screenshot", action="append", default=[], metavar="PNG",
                   help="full-page screenshot to use as a page's snapshot image at one width: NAME_WIDTH.png or "
                        "NAME_WIDTHxHEIGHT.png (e.g. signup_1280x800.png for .../signup.html at 1280 px), "
                        "URL=PNG (at the file name's width, else the image's width), URL@WIDTH=PNG, "
                        "URL@2x=PNG (a 2x image); an image matching no imported page and width is an "
                        "error (repeatable)")
    mask = r.add_mutually_exclusive_group()
    mask.add_argument("--mask", dest="mask", action="store_true", default=True,
                      help="scrub e-mail addresses and card numbers from kept text (default)")
    mask.add_argument("--no-mask", dest="mask", action="store_false",
                      help="keep page text as recorded (typed input is still stored as lengths only); "
                           "records masking=none in the capture")
    r.add_argument("--mask-text", action="store_true",
                   help="mask all page text: drawn as bars in screenshots, never stored (rrweb's rr-mask, "
                        "rr-block and rr-ignore content is always masked)")
    r.add_argument("--no-render", dest="render", action="store_false",
                   help="do not lay pages out with Chromium (placeholder element boxes and images)")
    r.add_argument("--strip-query", action="store_true", help="drop query strings from page URLs")
    r.add_argument("--max-file-mb", type=positive_float, default=None, metavar="MB",
                   help="refuse recording files above this size (default 512)")
    r.add_argument("--workers", type=int_range(0, 64), default=None, metavar="N",
                   help="processes that read and parse files while this one writes (default: one per idle "
                        "CPU beyond this one, for imports of hundreds of files or tens of MB; 0: none)")
    r.add_argument("--json", action="store_true", help="print the import report as JSON")
    r.set_defaults(handler=cmd_import_rrweb)
    p.set_defaults(handler=lambda args: _usage(p))

    c = sub.add_parser("collect", help="receive rrweb event batches over HTTP and write them to a capture",
                       description="Serve POST /v1/sessions/<key>/events (a JSON array of rrweb events) and "
                                   "POST /v1/sessions/<key>/end; every batch is on disk (CAPTURE.collector/spool) "
                                   "before it is acknowledged, and finished sessions are appended to CAPTURE, "
                                   "which may stay open in the viewer. Posts need the token printed at start.")
    c.add_argument("capture", metavar="CAPTURE", nargs="?", default=None,
                   help="capture file (created if missing); or give --dataset")
    d = c.add_argument_group("writing a Parquet capture dataset instead (many collectors may share one)")
    d.add_argument("--dataset", default=None, metavar="DIR",
                   help="dataset folder or fsspec URL (created if missing): this collector writes its own part files")
    d.add_argument("--name", default=None, metavar="NAME",
                   help="this collector's name, stable across restarts (default HOSTNAME-PORT)")
    d.add_argument("--state-dir", default=None, metavar="DIR",
                   help="local folder for the spool and token (default DATASET/_collectors/NAME; needed for a URL)")
    d.add_argument("--flush-seconds", type=positive_float, default=60.0, metavar="S",
                   help="close and publish part files at least this often (default 60)")
    d.add_argument("--flush-mb", type=positive_float, default=64.0, metavar="MB",
                   help="... or when this many MB of sessions are waiting (default 64)")
    c.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
    c.add_argument("--port", type=int_range(0, 65535), default=8765, help="port (default 8765; 0 = any free port)")
    c.add_argument("--max-body-mb", type=positive_float, default=5.0, metavar="MB",
                   help="largest request body (default 5)")
    c.add_argument("--memory-mb", type=positive_float, default=64.0, metavar="MB",
                   help="request bodies held in memory at once; beyond it posts get 503 + Retry-After (default 64)")
    c.add_argument("--read-timeout", type=positive_float, default=10.0, metavar="S",
                   help="seconds a connection has to send a whole request (default 10)")
    c.add_argument("--max-connections", type=int_range(1, 1_000_000), default=2000, metavar="N",
                   help="open connections (default 2000)")
    c.add_argument("--idle-minutes", type=positive_float, default=30.0,
                   help="write a session after this long without events")
    c.add_argument("--allow-origin", action="append", default=None, metavar="ORIGIN",
                   help="only accept posts from this page origin, e.g. https://shop.example (repeatable; "
                        "default: any origin with the token)")
    c.add_argument("--token", default=None, help="token posts must carry (default: the capture's, kept in "
                                                 "CAPTURE.collector/token and created on first start)")
    c.add_argument("--no-mask", dest="mask", action="store_false", default=True)
    c.add_argument("--no-render", dest="render", action="store_false")
    c.set_defaults(handler=cmd_collect)


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help(sys.stderr)
    return 2


def cmd_import_rrweb(args: argparse.Namespace) -> int:
    from hindsight.importers.session_writer import import_files

    max_bytes = int(args.max_file_mb * 2**20) if args.max_file_mb else None
    report = import_files(args.files, args.out, screenshots=args.screenshot, mask=args.mask, append=args.append,
                          render=args.render, overwrite=args.overwrite, max_bytes=max_bytes,
                          drop_query=args.strip_query, mask_text=args.mask_text, workers=args.workers)
    if args.json:
        print_json(report.as_dict())
        return 0
    rate = report.rrweb_events / report.seconds if report.seconds else 0
    print(f"imported {report.files} file(s) into {args.out}: {plural(report.sessions, 'session')}, {report.pageviews} "
          f"pageviews, {report.events:,} events from {report.rrweb_events:,} rrweb events "
          f"in {report.seconds:.1f} s ({rate:,.0f} rrweb events/s)")
    print("  kinds    " + ", ".join(f"{k} {n:,}" for k, n in sorted(report.kinds.items())))
    if report.geometry:
        print(f"  snapshots {report.snapshots_created} new (" +
              ", ".join(f"{g} {n}" for g, n in report.geometry.items()) +
              f"; {report.screenshots_used} from --screenshot)")
    for reason, n in sorted(report.skipped.items()):
        print(f"  skipped  {n:>6,}  {reason}")
    for reason, n in sorted(report.adjusted.items()):
        print(f"  adjusted {n:>6,}  {reason}")
    for note in report.notes:
        print(f"  note: {note}")
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    from hindsight.importers.collector import Collector, is_loopback

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from hindsight.cli import UsageError

    if (args.capture is None) == (args.dataset is None):
        raise UsageError("give a CAPTURE file or --dataset DIR (one of them)")
    kw = dict(host=args.host, port=args.port, max_body=int(args.max_body_mb * 2**20),
              idle_s=args.idle_minutes * 60, mask=args.mask, render=args.render,
              allowed_origins=tuple(args.allow_origin) if args.allow_origin else None,
              token=args.token, memory_budget=int(args.memory_mb * 2**20),
              read_timeout=args.read_timeout, max_connections=args.max_connections)
    if args.dataset is not None:
        from hindsight.dataset.collector import DatasetCollector

        collector = DatasetCollector(args.dataset, name=args.name, state_dir=args.state_dir,
                                     flush_s=args.flush_seconds, flush_mb=args.flush_mb, **kw)
        args.capture = f"{args.dataset} (as collector {collector.name})"
    else:
        collector = Collector(args.capture, **kw)
    if not is_loopback(args.host):
        print(f"warning: listening on {args.host}, not only this machine: anyone who can reach it and has the "
              "token can post; put it behind TLS (a reverse proxy) for traffic over a network", file=sys.stderr)
    origins = ", ".join(collector.allowed_origins) if collector.allowed_origins else "any (--allow-origin to restrict)"
    print(f"collecting rrweb sessions into {args.capture} at {collector.url}/v1/sessions/<key>/events\n"
          f"token: {collector.token}\norigins: {origins}\n"
          "paste into the recorded pages:\n" + collector.snippet() + "\n"
          "(Ctrl+C to stop; open sessions are written on exit, acknowledged batches survive a crash)", flush=True)

    def _stop(signum, frame):  # a service manager's SIGTERM ends it like Ctrl+C: buffered sessions are written
        collector.stop_soon()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    collector.serve_forever()
    for s in collector.written:
        print(f"  session {s['key']} -> {s['session_id']}: {s['pageviews']} pageviews, {s['events']:,} events")
    for s in collector.rejected:
        print(f"  rejected session {s['key']}: {s['error']}", file=sys.stderr)
    return 0
