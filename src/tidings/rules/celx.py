"""The CEL bindings (``common-expression-language``) without their command-line tool.

``import cel`` runs the package's ``__init__``, which does ``from . import cli`` before it
re-exports the compiled extension: typer, rich, prompt_toolkit and pygments, ~10 MB resident
in every API and worker process, for a REPL Tidings never runs (true of 0.10.0, the latest
release when this was written). Everything Tidings uses (``compile``, ``Context``,
``Program``) lives in the compiled extension ``cel.cel``.

So this module finds the installed package without executing it (``importlib.util.find_spec``
on a top-level name does not import it) and loads the extension file with importlib's
``ExtensionFileLoader`` under its own name, ``cel.cel``. It is registered in ``sys.modules``
under that name because a PyO3 extension can be initialised only once per process: a later
``import cel`` (a test, a user's shell) then runs the package ``__init__``, whose
``from .cel import *`` finds this same module, so both spellings share one set of types.
Should the layout of the package change, the plain ``import cel`` is the fallback.

Import ``compile``, ``Context`` and ``Program`` from here rather than ``import cel``.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

__all__ = ["Context", "Program", "compile"]

EXTENSION = "cel.cel"


def _load_extension() -> ModuleType:
    loaded = sys.modules.get(EXTENSION)
    if loaded is not None:
        return loaded
    package = importlib.util.find_spec("cel")
    folders = package.submodule_search_locations if package is not None else None
    for folder in folders or ():
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = Path(folder) / f"cel{suffix}"
            if not path.is_file():
                continue
            loader = importlib.machinery.ExtensionFileLoader(EXTENSION, str(path))
            spec = importlib.util.spec_from_file_location(EXTENSION, path, loader=loader)
            if spec is None:
                continue
            module = importlib.util.module_from_spec(spec)
            sys.modules[EXTENSION] = module
            loader.exec_module(module)
            return module
    import cel  # unexpected layout: the whole package, command-line tool included

    return cel


if TYPE_CHECKING:
    from cel import Context, Program, compile
else:
    _extension = _load_extension()
    Context = _extension.Context
    Program = _extension.Program
    compile = _extension.compile
