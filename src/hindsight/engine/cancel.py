"""Cancelling cluster work from the thread that waits for it (stdlib only).

A caller that runs analyses on a worker thread (the app's task runner) wraps each call in
``cancel_scope(check)``: :meth:`~hindsight.engine.driver.DatasetCapture.run` polls ``check`` while
it waits for its Dask futures, and when it turns true cancels them on the cluster and raises
:class:`~hindsight.engine.driver.Cancelled`. An explicit ``cancelled=`` argument wins.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Iterator

_scope = threading.local()


@contextmanager
def cancel_scope(check: Callable[[], bool] | None) -> Iterator[None]:
    """Analyses run on this thread inside the block are cancelled once ``check()`` is true."""
    previous = getattr(_scope, "check", None)
    _scope.check = check
    try:
        yield
    finally:
        _scope.check = previous


def current_check() -> Callable[[], bool] | None:
    """The ``check`` of the innermost :func:`cancel_scope` on this thread, or None."""
    return getattr(_scope, "check", None)
