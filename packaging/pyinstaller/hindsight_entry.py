"""Entry script of the frozen app: the ``hindsight`` command, GUI included (no command or a FILE).

PyInstaller needs a script, not a ``module:function`` entry point; this is that script.
"""

import multiprocessing
import sys

from hindsight.cli import main

if __name__ == "__main__":
    # The demo generator uses a process pool: under the spawn start method (macOS, Windows)
    # a frozen child re-runs this executable and must stop here instead of parsing argv.
    multiprocessing.freeze_support()
    sys.exit(main())
