"""The ``hindsight`` command line: ``hindsight [FILE]`` opens the GUI, subcommands do the rest.

Each subcommand lives in a module of this package exposing ``register(subparsers)``; the
handler returns an exit code. Errors print one line on stderr and exit non-zero.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from hindsight import __version__
from hindsight.store.errors import CaptureError

#: Modules that register subcommands (each adds its own parser).
COMMAND_MODULES = (
    "hindsight.cli.capture_cmds",
    "hindsight.cli.check_cmd",
    "hindsight.cli.demo_cmd",
    "hindsight.cli.bench_cmd",
    "hindsight.cli.frame_cmd",
    "hindsight.cli.clip_cmd",
    "hindsight.cli.heatmap_cmd",
    "hindsight.cli.analytics_cmds",
    "hindsight.cli.bookmark_cmds",
    "hindsight.cli.import_cmds",
    "hindsight.cli.erase_cmds",
    "hindsight.cli.report_cmd",
    "hindsight.cli.upgrade_cmd",
    "hindsight.cli.pages_cmd",
    "hindsight.cli.dataset_cmds",
)


class UsageError(Exception):
    """Bad arguments that argparse could not catch (exit code 2)."""


def build_parser() -> argparse.ArgumentParser:
    from hindsight.cli.args import OneLineParser

    parser = OneLineParser(
        prog="hindsight",
        description="Replay recorded website sessions, heatmaps and form analytics, locally.",
        epilog="Run 'hindsight FILE' (or just 'hindsight') to open the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"hindsight {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    from hindsight.cli.dataset_source import add_scheduler_arguments

    add_scheduler_arguments(sub)
    return parser


def _display_problem() -> str | None:
    """Why a window cannot be shown here, or None (Qt would abort the process instead)."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return ("no display to open the app on (neither DISPLAY nor WAYLAND_DISPLAY is set): run it in a "
            "desktop session or under xvfb-run; the other commands (info, sessions, heatmap...) work without one")


def _open_gui(argv: list[str]) -> int:
    from hindsight.gui_link import GuiUnavailable, gui_callable

    problem = _display_problem()
    if problem:
        print(f"hindsight: error: {problem}", file=sys.stderr)
        return 1

    try:
        gui_main = gui_callable("main")
    except GuiUnavailable as exc:
        print(f"hindsight: error: {exc}", file=sys.stderr)
        return 1
    return int(gui_main(argv) or 0)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["__job"]:   # the app's clip / report jobs (hindsight.share.job), not for people
        from hindsight.share.job import main as job_main

        return job_main(argv[1:])
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    if not argv or (argv[0] not in commands and not argv[0].startswith("-")):
        if argv and not os.path.exists(argv[0]):
            print(f"hindsight: error: {argv[0]!r} is neither a command nor a file "
                  f"(commands: {', '.join(sorted(commands))})", file=sys.stderr)
            return 2
        return _open_gui(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # a bad argument (one line on stderr, 2), or --help / --version (0)
        return exc.code if isinstance(exc.code, int) else 2
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    from hindsight.store.reader import capture_did_open

    opened: list = []
    capture_did_open.connect(opened.append)
    try:
        code = int(args.handler(args) or 0)
        if args.command != "check":   # check lists the damaged events itself
            _report_damaged_events(opened)
        return code
    except CaptureError as exc:
        print(f"hindsight: error: {exc}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"hindsight: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hindsight: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the CLI promises one line, not a traceback
        if os.environ.get("HINDSIGHT_DEBUG"):
            raise
        print(f"hindsight: error: {type(exc).__name__}: {exc} (set HINDSIGHT_DEBUG=1 for details)",
              file=sys.stderr)
        return 1
    finally:
        capture_did_open.disconnect(opened.append)


def _report_damaged_events(captures: list) -> None:
    """One line per capture whose damaged events were dropped while the command read it."""
    damaged: dict[str, int] = {}
    for cap in captures:
        if cap.damaged_events:
            damaged[str(cap.path)] = max(damaged.get(str(cap.path), 0), cap.damaged_events)
    for path, n in damaged.items():
        print(f"hindsight: warning: {path}: {n:,} damaged event{'s' if n != 1 else ''} skipped "
              f"('hindsight check {path}' lists them)", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
