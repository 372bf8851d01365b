"""``hindsight frame``: render one replay frame of a session to a PNG (no window needed)."""

from __future__ import annotations

import argparse
from pathlib import Path

from hindsight.cli.args import int_range, non_negative_float, output_path, session_id
from hindsight.gui_link import GuiUnavailable, gui_callable


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("frame", help="render a session's replay at one instant to a PNG image")
    p.add_argument("file", metavar="FILE", help="capture file, or a dataset folder or URL (reads that session only)")
    p.add_argument("--session", type=session_id, required=True, metavar="ID", help="session id")
    p.add_argument("--at", type=non_negative_float, default=0.0, metavar="MS",
                   help="time in ms since the session started (default 0)")
    p.add_argument("-o", "--out", type=output_path, required=True, metavar="PNG", help="image file to write")
    p.add_argument("--width", type=int_range(320, 8000), default=1280, metavar="W", help="image width in px (default 1280)")
    p.add_argument("--height", type=int_range(320, 8000), default=800, metavar="H", help="image height in px (default 800)")
    p.add_argument("--canvas-only", action="store_true", help="the page view only, without timeline and controls")
    p.add_argument("--whole-page", action="store_true", help="show the whole page, not the visitor's viewport")
    p.set_defaults(handler=cmd_frame)


def cmd_frame(args: argparse.Namespace) -> int:
    from hindsight.cli import UsageError
    from hindsight.engine.session_source import open_session_source, session_or_error

    for name in ("width", "height"):
        value = getattr(args, name)
        if not 320 <= value <= 8000:
            raise UsageError(f"--{name} must be between 320 and 8000 px, not {value}")
    out = Path(args.out)
    if not out.parent.exists():
        raise UsageError(f"cannot write {out}: folder {out.parent} does not exist")
    if args.at < 0:
        raise UsageError(f"--at must be 0 or more ms, not {args.at:g}")
    # check what we can before starting Qt, so mistakes fail fast and in one line
    with open_session_source(args.file) as cap:   # a capture, or a dataset (one session's rows)
        session = session_or_error(cap, args.file, args.session)
    if args.at > session.duration_ms:
        raise UsageError(f"--at {args.at:g} is past the end of session {args.session} "
                         f"({session.duration_ms} ms long)")
    try:
        # Rendering a frame *is* drawing the GUI: reach it through its entry point.
        render_frame_png = gui_callable("render_frame_png")
    except GuiUnavailable as exc:
        raise UsageError(str(exc)) from None
    render_frame_png(args.file, args.session, args.at, out, size=(args.width, args.height),
                     part="canvas" if args.canvas_only else "player",
                     view_mode="page" if args.whole_page else "follow")
    print(f"wrote {out} ({args.width}×{args.height}, session {args.session} at {args.at / 1000:.1f} s)")
    return 0
