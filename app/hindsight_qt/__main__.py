"""Start the desktop app: ``hindsight [FILE]`` (or ``python -m hindsight_qt [FILE]``)."""

from __future__ import annotations

import argparse
import sys


def _parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="hindsight", description="Open a Hindsight capture.")
    parser.add_argument("file", nargs="?", help="capture file to open (.sqlite, .db, .hindsight), or a capture "
                                                "dataset (folder or URL) to analyse on a Dask cluster")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                        help="for a dataset: the Dask scheduler to run on (default: $HINDSIGHT_SCHEDULER, "
                             "else a local cluster of one worker process per core)")
    return parser.parse_known_args(argv)  # leftovers (Qt options such as -platform) go to Qt


def main(argv: list[str] | None = None) -> int:
    """Run the app until its window closes; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args, qt_args = _parse(argv)

    from PySide6.QtCore import QTimer

    from hindsight_qt.application import create_application
    from hindsight_qt.main_window import MainWindow

    app = create_application([sys.argv[0] if sys.argv else "hindsight", *qt_args])
    # Lazy: the player and the panels' contents (pyqtgraph, the analyses) are built right after
    # the first paint of the session list (or of the window), in steps between which input is
    # handled; a key or menu that needs them completes the build first.
    window = MainWindow(panels=True, lazy=True)
    window.show()
    if args.file:
        # After the event loop starts, so an error dialog has a visible parent window.
        if args.scheduler:
            QTimer.singleShot(0, lambda: (window.open_dataset(args.file, args.scheduler),
                                          window.finish_after_paint()))
        else:
            QTimer.singleShot(0, lambda: (window.open_capture(args.file), window.finish_after_paint()))
    else:
        window.finish_after_paint()
    return int(app.exec())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
