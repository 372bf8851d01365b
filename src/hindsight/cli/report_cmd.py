"""``hindsight report``: the findings report, one self-contained HTML file (see hindsight.share.report)."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write the findings report (patterns, clips, heatmaps, form figures) "
                                      "as one self-contained HTML file")
    p.add_argument("file", metavar="CAPTURE", help="capture file")
    p.add_argument("--pattern", action="append", default=[], metavar="TAG",
                   help="only this pattern (bookmark tag); repeat for several (default: every pattern)")
    p.add_argument("--no-clips", action="store_true", help="leave the clips out (much faster)")
    p.add_argument("--clip-format", choices=("webm", "mp4", "gif"), default="webm",
                   help="clip format (default webm: VP9, plays in every current browser)")
    p.add_argument("--max-clips", type=int, default=None, metavar="N",
                   help="clips per pattern, one per bookmarked moment in table order (default 8)")
    p.add_argument("--before", type=float, default=5.0, metavar="S", help="seconds before each moment (default 5)")
    p.add_argument("--after", type=float, default=5.0, metavar="S", help="seconds after each moment (default 5)")
    p.add_argument("--speed", type=float, default=2.0, help="clip playback speed (default 2)")
    p.add_argument("--fps", type=int, default=15, help="clip frames per second (default 15)")
    p.add_argument("--width", type=int, default=960, metavar="PX", help="clip width in px (default 960)")
    p.add_argument("-o", "--output", required=True, metavar="DIR|FILE.html",
                   help="the report file, or a folder for findings-<capture>.html")
    p.set_defaults(handler=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from hindsight.cli import UsageError
    from hindsight.share.report import MAX_CLIPS, ReportError, ReportOptions, build_report

    if not 0.25 <= args.speed <= 16:
        raise UsageError(f"--speed must be between 0.25 and 16, not {args.speed:g}")
    if not 1 <= args.fps <= 60:
        raise UsageError(f"--fps must be between 1 and 60, not {args.fps}")
    if not 160 <= args.width <= 3840:
        raise UsageError(f"--width must be between 160 and 3840 px, not {args.width}")
    if args.before < 0 or args.after < 0 or args.before + args.after <= 0:
        raise UsageError("--before and --after must be 0 or more seconds, and not both 0")
    max_clips = MAX_CLIPS if args.max_clips is None else args.max_clips
    if max_clips < 0:
        raise UsageError(f"--max-clips must be 0 or more, not {max_clips}")
    options = ReportOptions(tags=args.pattern or None, clips=not args.no_clips, clip_format=args.clip_format,
                            speed=args.speed, fps=args.fps, clip_width=args.width,
                            before_ms=int(args.before * 1000), after_ms=int(args.after * 1000), max_clips=max_clips)
    tty = sys.stderr.isatty()
    last = [""]

    def progress(done: int, total: int, text: str) -> bool:
        if tty and text != last[0]:
            last[0] = text
            sys.stderr.write(f"\r\033[K{100 * done // max(total, 1):3d}%  {text}")
            sys.stderr.flush()
        return True

    try:
        info = build_report(args.file, args.output, options, progress)
    except ReportError as exc:
        raise UsageError(str(exc)) from None
    finally:
        if tty:
            sys.stderr.write("\r\033[K")
    print(f"wrote {info.path} ({info.bytes / 1e6:.1f} MB): {info.patterns} pattern{'s' * (info.patterns != 1)}, "
          f"{info.moments} moment{'s' * (info.moments != 1)}, {info.clips} clip{'s' * (info.clips != 1)} "
          f"in {info.seconds:.1f} s")
    return 0
