"""Optional parts of crisislab and the packages they need.

``pip install crisislab`` holds what replay, validate, sources, play, simulate and the
debrief need. The rest comes with an extra (``pip install 'crisislab[gt]'``); every
optional import goes through :func:`require` or :func:`extra`, so a command whose extra
is missing stops with one line that says what to install (the command line prints it
and exits 1), never with a traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

# extra -> (what needs it, the packages it installs); pyproject.toml lists the same
EXTRAS: dict[str, tuple[str, str]] = {
    "gt": ("Gambit games and their equilibria (crisislab gt)", "pygambit"),
    "sensitivity": ("The Sobol method of crisislab sensitivity", "SALib"),
    "rl": ("The reinforcement-learning environment (crisislab.rl)", "PettingZoo and Gymnasium"),
    "ray": ("The Ray backend (--backend ray)", "Ray"),
    "plot": ("Drawing a figure (--plot)", "matplotlib"),
    "fit": ("Fitting the leaders' model (crisislab fit)", "SciPy"),
    "parquet": ("Writing a trace as Parquet (simulate --trace FILE.parquet)", "pyarrow"),
    "web": (
        "The classroom web app (crisislab serve)",
        "FastAPI, uvicorn, python-multipart and segno",
    ),
    "llm": ("Language-model leaders (--agent ACTOR=llm:MODEL)", "httpx"),
}


class MissingExtra(ImportError):
    """An optional package is not installed; the message says which extra brings it."""

    def __init__(self, extra: str, module: str) -> None:
        purpose, packages = EXTRAS[extra]
        super().__init__(
            f"{purpose} needs {packages} ({module} is not installed); "
            f"install it with: pip install 'crisislab[{extra}]'",
            name=module,
        )
        self.extra = extra


def available(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it."""
    top = module.partition(".")[0]
    if top in sys.modules:
        return sys.modules[top] is not None
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def ensure(module: str, extra: str) -> None:
    """Stop with :class:`MissingExtra` now if ``module`` is not installed (a cheap check,
    for a command to make before long work that would need it at the end)."""
    if not available(module):
        raise MissingExtra(extra, module)


def require(module: str, extra: str) -> ModuleType:
    """Import ``module``, which comes with ``crisislab[extra]``."""
    with missing_extra(extra):
        return importlib.import_module(module)


@contextmanager
def missing_extra(extra: str) -> Iterator[None]:
    """Imports in this block come with ``crisislab[extra]``: a missing one raises
    :class:`MissingExtra` (used where the import must stay a plain ``import`` statement,
    for the type checker)."""
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}")
    try:
        yield
    except MissingExtra:
        raise
    except ImportError as e:
        raise MissingExtra(extra, e.name or extra) from None
