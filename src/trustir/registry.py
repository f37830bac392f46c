"""One Registry type for every extension point (loss, judge, merge, ranker, source, ...).

A registry whose entries live one per module in a package names that package:
``LOSSES = Registry("loss", autoload="trustir.retrieval.losses")``. The first lookup
(``get``, ``names``, ``in``, iteration) imports every direct submodule of the package whose
name does not start with ``_`` (each registers itself with a decorator), so adding an entry is
one file and nothing else to edit. The static dependency tool (``trustir dag deps``) reads the
string literal and counts every direct module of that package as imported.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """A named table of implementations filled by a decorator: ``@SOURCES.register("world")``."""

    def __init__(self, kind: str, autoload: str | None = None) -> None:
        self.kind = kind
        #: the package whose direct submodules hold the entries (imported on first lookup).
        self.autoload = autoload
        self._items: dict[str, T] = {}
        self._loaded = autoload is None
        self._lock = threading.RLock()

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that records ``obj`` under ``name``; a second use of a name is an error."""

        def deco(obj: T) -> T:
            if name in self._items and self._items[name] is not obj:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            return obj

        return deco

    def load(self) -> None:
        """Import every direct submodule of the ``autoload`` package (once; thread-safe)."""
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            assert self.autoload is not None  # noqa: S101  type narrowing: checked by the caller above
            package = importlib.import_module(self.autoload)
            paths = getattr(package, "__path__", None)
            if paths is None:
                raise TypeError(f"{self.kind} registry: autoload {self.autoload!r} is no package")
            for info in sorted(pkgutil.iter_modules(paths), key=lambda m: m.name):
                if not info.name.startswith("_"):
                    importlib.import_module(f"{self.autoload}.{info.name}")
            self._loaded = True

    def get(self, name: str) -> T:
        """The implementation called ``name``; a clear error lists the known names otherwise."""
        self.load()
        try:
            return self._items[name]
        except KeyError:
            raise KeyError(self.unknown(name)) from None

    def unknown(self, name: object) -> str:
        """The message for an unknown ``name``: what was asked for and every known name."""
        known = ", ".join(self.names()) or "(none)"
        where = f" (modules of {self.autoload})" if self.autoload else ""
        return f"unknown {self.kind} {name!r}; known{where}: {known}"

    def check(self, names: str | list[str] | tuple[str, ...], where: str = "") -> None:
        """Raise ``ValueError`` naming ``where`` and the known names if any name is unknown."""
        for name in [names] if isinstance(names, str) else names:
            if name not in self:
                raise ValueError(f"{where + ': ' if where else ''}{self.unknown(name)}")

    def names(self) -> list[str]:
        """Every registered name, sorted (after autoloading)."""
        self.load()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        self.load()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
