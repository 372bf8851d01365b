"""Hindsight's Qt views: the replay player (canvas, timeline, controls), the filter panel,
the session list and the analysis panels, one module each (``qt_<model>.py``).

Importing this package or any of its modules has no side effects: no Qt calls, no settings
read, nothing patched. The PySide6 refcount workaround is applied by
``hindsight_qt.application.create_application()`` (see ``hindsight_qt.pyside_guard``).
"""
