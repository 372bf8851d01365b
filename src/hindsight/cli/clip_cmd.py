"""``hindsight clip``: render a stretch of a session's replay to an MP4, WebM or GIF clip."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("clip", help="render a stretch of a session's replay to an .mp4, .webm or .gif clip")
    p.add_argument("file", metavar="CAPTURE", help="capture file")
    p.add_argument("--session", type=int, required=True, metavar="ID", help="session id")
    p.add_argument("--from", dest="t_from", type=float, required=True, metavar="MS",
                   help="start, ms since the session started")
    p.add_argument("--to", dest="t_to", type=float, required=True, metavar="MS",
                   help="end, ms since the session started")
    p.add_argument("--speed", type=float, default=2.0, help="replay speed (default 2: twice real time)")
    p.add_argument("--fps", type=float, default=15, help="frames per second of the clip (default 15)")
    p.add_argument("--width", type=int, default=1280, metavar="W",
                   help="frame width in px (default 1280); the height follows the visitor's screen")
    p.add_argument("--no-caption", action="store_true", help="no strip with session, page and time")
    p.add_argument("-o", "--out", required=True, metavar="FILE", help="clip file: .mp4, .webm or .gif")
    p.set_defaults(handler=cmd_clip)


def cmd_clip(args: argparse.Namespace) -> int:
    from hindsight.share.clips import render_clip

    show = sys.stderr.isatty()
    last = [0.0]
    stop = []  # a signal arrived: stop at the next frame

    def progress(done: int, total: int) -> bool:
        if stop:
            raise KeyboardInterrupt
        now = time.monotonic()
        if show and (done == total or now - last[0] > 0.2):
            last[0] = now
            sys.stderr.write(f"\rrendering frame {done}/{total}")
            sys.stderr.flush()
        return True

    def on_signal(signum, _frame):
        # Ctrl+C or a kill: stop between frames, where render_clip removes its temporary file.
        # (Raising at once could land inside Qt's painting, which crashed the process; SIGTERM
        # would not unwind at all.) A second signal stops at once.
        if stop:
            raise KeyboardInterrupt
        stop.append(signum)

    t0 = time.perf_counter()
    main_thread = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)} if main_thread else {}
    try:
        info = render_clip(args.file, args.session, args.t_from, args.t_to, args.out, speed=args.speed,
                           fps=args.fps, width=args.width, caption=not args.no_caption, progress=progress)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if show and last[0]:
            sys.stderr.write("\n")
    print(f"wrote {info.path} ({info.frames} frames, {info.duration_s:.1f} s at {info.fps:g} fps, "
          f"{info.width}×{info.height}; session {args.session} {args.t_from / 1000:.1f}-"
          f"{args.t_to / 1000:.1f} s at {args.speed:g}×) in {time.perf_counter() - t0:.1f} s")
    return 0
