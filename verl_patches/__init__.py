# Copyright 2026 The laser-verl Authors
# SPDX-License-Identifier: Apache-2.0
"""Small, version-checked adaptations of the released verl (PyPI) that the recipe cannot reach
through verl's own seams.

Nothing here is applied by importing this package. Each sub-module is opt-in:

- ``verl_patches.cpu.plugin``: run verl's real trainer on a machine without an accelerator (CPU platform,
  gloo, FSDP2 on CPU, an "hf" rollout backend). Loaded in every Ray process through verl's own
  plugin hook: ``VERL_USE_EXTERNAL_MODULES=verl_patches.cpu.plugin`` (``run_laser.sh`` sets it for the CPU
  presets only).

Every patch names the verl function it replaces or wraps, and ``tests/verl_patches/`` fails if the
verl (or vLLM) internal it relies on moves.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

# The verl the recipe is pinned to: recipe/laser/REQUIRED_VERL.txt, which setup.sh and the requirements
# files read as a pip constraint. Each patch declares the verl versions it was checked against.
REQUIRED_VERL_FILE = Path(__file__).resolve().parent.parent / "recipe" / "laser" / "REQUIRED_VERL.txt"


def required_verl_version() -> str:
    """The pinned version, from REQUIRED_VERL.txt (one line, ``verl==X.Y.Z``)."""
    text = REQUIRED_VERL_FILE.read_text().strip()
    if not text.startswith("verl=="):
        raise VerlVersionError(f"{REQUIRED_VERL_FILE}: expected one line 'verl==X.Y.Z', found {text!r}")
    return text.removeprefix("verl==")


class VerlVersionError(RuntimeError):
    pass


def installed_verl_version() -> str:
    try:
        return version("verl")
    except PackageNotFoundError:  # a source checkout on sys.path
        import verl

        return verl.__version__


def check_verl_version(what: str, supported: str, verl_function: str) -> str:
    """Refuse to apply patch ``what`` (which replaces or wraps ``verl_function``) to a verl outside
    its ``supported`` range (a PEP 440 specifier such as ``">=0.9.1,<0.9.2"``)."""
    found = installed_verl_version()
    if Version(found) not in SpecifierSet(supported):
        raise VerlVersionError(
            f"{what} patches {verl_function}, checked against verl {supported}, but verl {found} is installed. "
            f"Install the pinned verl ({REQUIRED_VERL_FILE.name}: verl=={required_verl_version()}), or check "
            f"{verl_function} in verl {found} against the patch (tests/verl_patches/) and widen its range."
        )
    return found


class _PostImportFinder(importlib.abc.MetaPathFinder):
    """Runs registered hooks right after a named module finishes executing."""

    def __init__(self):
        self.hooks: dict[str, list[Callable]] = {}
        self._busy: set[str] = set()

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.hooks or fullname in self._busy:
            return None
        self._busy.add(fullname)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._busy.discard(fullname)
        if spec is None or spec.loader is None:
            return spec
        loader, hooks = spec.loader, self.hooks

        class _Loader(importlib.abc.Loader):
            def create_module(self, spec):
                return loader.create_module(spec)

            def exec_module(self, module):
                loader.exec_module(module)
                for hook in hooks.pop(fullname, []):
                    hook(module)

        spec.loader = _Loader()
        return spec


_finder = _PostImportFinder()


def when_imported(module_name: str, hook: Callable) -> None:
    """Call ``hook(module)`` once ``module_name`` is imported (at once if it already is).

    Lets a patch touch a verl module without importing it early (verl's plugin modules run inside
    ``import verl``, before most of verl exists)."""
    if module_name in sys.modules:
        hook(sys.modules[module_name])
        return
    _finder.hooks.setdefault(module_name, []).append(hook)
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
