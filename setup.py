"""Ships ``resources/`` (style sheets, icons) inside the wheel as ``hindsight_qt/assets``.

The repository keeps its runtime files in one top-level ``resources/`` folder (shared with the
PyInstaller spec); a wheel has only packages, so ``build_py`` copies the folder into the
``hindsight_qt`` package it builds. ``hindsight_qt.resources.resource_path()`` finds it there.
Everything else about the project is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RESOURCES = Path(__file__).resolve().parent / "resources"


class BuildPyWithResources(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "hindsight_qt" / "assets"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(RESOURCES, target, ignore=shutil.ignore_patterns("*~", ".*"))


setup(cmdclass={"build_py": BuildPyWithResources})
