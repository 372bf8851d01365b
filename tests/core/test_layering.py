"""The core never imports Qt or the GUI package (Anki/napari split), checked on the source."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "src" / "hindsight"
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "hindsight_qt", "shiboken6")


def test_no_core_module_imports_qt_or_the_gui():
    offenders = []
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in FORBIDDEN:
                    offenders.append(f"{path.relative_to(CORE)}:{node.lineno} imports {name}")
    assert offenders == []


def test_core_imports_with_qt_blocked():
    """Importing every core module with Qt made unimportable must work (headless install)."""
    code = (
        "import sys, importlib, pkgutil\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {FORBIDDEN!r}: raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import hindsight\n"
        "for m in pkgutil.walk_packages(hindsight.__path__, 'hindsight.'):\n"
        "    if m.name.endswith('__main__'): continue\n"
        "    importlib.import_module(m.name)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def _module_imports() -> dict[str, set[str]]:
    """Module -> the hindsight modules it imports anywhere in its source (deferred imports too)."""
    root = CORE.parent
    mods = {}
    for path in CORE.rglob("*.py"):
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = path
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hindsight"):
                deps.add(node.module)
                deps.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        # A package and its own submodules (``importers/__init__`` re-exporting) are not a cycle.
        graph[name] = {d for d in deps if d in mods and d != name
                       and not d.startswith(name + ".") and not name.startswith(d + ".")}
    return graph


def test_no_import_cycles_in_the_core():
    """E.g. analytics.signals once imported forms and funnel (for its benchmark) while both import
    signals: a cycle that only deferred imports kept from failing. Benchmarks live in
    ``hindsight.benchmarks`` now, and nothing imports back into a module that imports it."""
    graph = _module_imports()
    cycles = []

    def visit(start, node, path):
        for dep in graph.get(node, ()):
            if dep == start:
                cycles.append(" -> ".join(path + [dep]))
            elif dep not in path and len(path) < 6:
                visit(start, dep, path + [dep])

    for module in graph:
        visit(module, module, [module])
    assert cycles == []


def test_benchmarks_live_in_one_package():
    strays = [p.relative_to(CORE).as_posix() for p in CORE.rglob("*bench*.py")
              if p.parent.name != "benchmarks" and p.name != "bench_cmd.py"]
    assert strays == []
    for path in CORE.rglob("*.py"):
        if path.parent.name != "benchmarks":
            assert "BENCHMARKS" not in path.read_text() or path.name == "bench_cmd.py", path


def test_the_gui_does_not_guess_attributes():
    """Views use typed APIs, not ``getattr`` / ``hasattr`` guesses (issue 13: 103 of them hid the
    "Skip inactivity after" preference). The few left probe optional runtime features and say so."""
    app = CORE.parents[1] / "app"
    hits = [(p.relative_to(app).as_posix(), n, line.strip())
            for p in app.rglob("*.py") for n, line in enumerate(p.read_text().splitlines(), 1)
            if "getattr(" in line or "hasattr(" in line]
    assert len(hits) <= 3, hits
    assert all("#" in line for _p, _n, line in hits), hits
