"""The static import closure of a script: every source file it can import, read from the AST.

Rules (DESIGN.md, "static import closure"), applied to every module reached, at file level:

- ``import a.b.c`` / ``from a.b import c`` / relative imports, anywhere in a module (function
  bodies included) except inside ``if TYPE_CHECKING:`` blocks (their ``else:`` counts);
- importing ``a.b.c`` pulls in ``a/__init__.py``, ``a/b/__init__.py`` and ``a/b/c.py``;
  ``from a.b import c`` pulls in ``a/b/c.py`` (or ``a/b/c/__init__.py``) when ``c`` is a module;
- ``importlib.import_module("a.b")`` with a string literal is an import of ``a.b``;
- a registry declared ``Registry(..., autoload="a.b")`` (any callee whose name ends in
  ``Registry``; ``autoload=__package__`` also works) imports ``a.b`` and every direct submodule
  of it whose name does not start with ``_``, as ``pkgutil.iter_modules`` finds them at run
  time; any other ``autoload=`` expression is an error (the closure could not follow it);
- a non-Python file that a module names relative to itself (``Path(__file__).with_name("x.css")``,
  ``Path(__file__).parent / "templates"``, ``importlib.resources.files("a.b") / "x.json"``) is a
  dependency too (a file or a folder), when it exists.

Only modules found under the search roots count (as on ``sys.path``: the script's folder, then
``src/``); third-party imports are ignored. An import of a module under a root that has no file
(``from trustir.nowhere import x``) is an error naming the file and line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path


class ClosureError(ValueError):
    """An import that names a module of the package that does not exist, or a file that does
    not parse."""


@dataclass(frozen=True)
class SearchPath:
    """Module names <-> files, like ``sys.path``: the first root holding a top-level name wins.

    A folder without ``__init__.py`` is a namespace package (no file of its own).
    """

    roots: tuple[Path, ...]

    @classmethod
    def of(cls, roots: Iterable[Path]) -> SearchPath:
        return cls(tuple(Path(r).resolve() for r in roots))

    def _root_of(self, top: str) -> Path | None:
        for root in self.roots:
            if (root / f"{top}.py").is_file() or (root / top).is_dir():
                return root
        return None

    def owns(self, name: str) -> bool:
        """Whether the top-level name of ``name`` is found under a root (else: third party)."""
        return self._root_of(name.split(".")[0]) is not None

    def location(self, name: str) -> tuple[Path | None, Path | None]:
        """(file, package folder) of the module ``name``: ``a/b.py`` -> (that, None),
        ``a/b/`` -> (``a/b/__init__.py`` or None for a namespace package, the folder);
        (None, None) when there is no such module."""
        root = self._root_of(name.split(".")[0])
        if root is None:
            return None, None
        base = root.joinpath(*name.split("."))
        if (base / "__init__.py").is_file():  # a package wins over a module, as in Python
            return base / "__init__.py", base
        if base.with_suffix(".py").is_file():
            return base.with_suffix(".py"), None
        if base.is_dir():
            return None, base
        return None, None

    def exists(self, name: str) -> bool:
        return self.location(name) != (None, None)

    def module_name(self, path: Path) -> tuple[str, bool] | None:
        """(dotted name, is a package ``__init__``) of a file under a root; None outside."""
        path = path.resolve()
        for root in self.roots:
            try:
                rel = path.relative_to(root)
            except ValueError:
                continue
            parts = list(rel.with_suffix("").parts)
            is_init = parts[-1] == "__init__"
            if is_init:
                parts.pop()
            if parts:
                return ".".join(parts), is_init
        return None

    def files_of_import(self, name: str) -> list[Path]:
        """Files that ``import name`` executes: every parent package's ``__init__`` and the
        module (an ``__init__`` for a package)."""
        parts = name.split(".")
        out = []
        for i in range(1, len(parts) + 1):
            file, _ = self.location(".".join(parts[:i]))
            if file is not None:
                out.append(file)
        return out

    def submodules(self, package: str) -> list[str]:
        """Direct submodules of ``package`` that ``pkgutil.iter_modules`` lists, less ``_*``."""
        _, folder = self.location(package)
        if folder is None:
            raise ClosureError(f"autoload package {package!r} is not a package folder")
        names = [p.stem for p in folder.glob("*.py") if p.name != "__init__.py"]
        names += [p.name for p in folder.iterdir() if (p / "__init__.py").is_file()]
        return sorted(f"{package}.{n}" for n in set(names) if not n.startswith("_"))


# -- what one file refers to ----------------------------------------------------------------------
@dataclass(frozen=True)
class Reference:
    """A module (dotted ``name``) or a file/folder (``path``) that a file refers to, and where."""

    line: int
    module: str | None = None
    names: tuple[str, ...] = ()  # ``from module import names`` (each may be a submodule)
    path: Path | None = None


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _callee_name(func: ast.expr) -> str:
    if isinstance(func, ast.Subscript):  # Registry[Loss](...)
        func = func.value
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class _Visitor(ast.NodeVisitor):
    """Collects the references of one module (see the module docstring for the rules)."""

    def __init__(self, file: Path, package: str | None, search: SearchPath) -> None:
        self.file, self.package, self.search = file, package, search
        self.refs: list[Reference] = []

    # imports ---------------------------------------------------------------------------------
    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.refs.append(Reference(node.lineno, module=alias.name))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            if self.package is None:
                raise ClosureError(f"{self.file}:{node.lineno}: relative import outside a package")
            parts = self.package.split(".")
            if node.level - 1 >= len(parts):
                raise ClosureError(f"{self.file}:{node.lineno}: relative import beyond top level")
            anchor = ".".join(parts[: len(parts) - (node.level - 1)])
            base = f"{anchor}.{base}" if base else anchor
        names = tuple(a.name for a in node.names if a.name != "*")
        self.refs.append(Reference(node.lineno, module=base, names=names))

    def visit_Call(self, node: ast.Call) -> None:
        callee = _callee_name(node.func)
        if callee.endswith("Registry"):
            for kw in node.keywords:
                if kw.arg == "autoload" and not _is_none(kw.value):
                    pkg = self._autoload_package(kw.value, node.lineno)
                    self.refs.append(Reference(node.lineno, module=pkg))
                    for sub in self.search.submodules(pkg) if self.search.owns(pkg) else []:
                        self.refs.append(Reference(node.lineno, module=sub))
        elif callee == "import_module" and node.args and (name := _literal(node.args[0])):
            # a relative name (".x") needs the package= argument: not followed
            self.refs.extend([Reference(node.lineno, module=name)] if name[0] != "." else [])
        self.generic_visit(node)

    def _autoload_package(self, value: ast.expr, line: int) -> str:
        """The package an ``autoload=`` names: a string literal, or ``__package__``."""
        if (pkg := _literal(value)) is not None:
            return pkg
        if isinstance(value, ast.Name) and value.id == "__package__" and self.package:
            return self.package
        raise ClosureError(
            f"{self.file}:{line}: autoload= must be a string literal naming the package "
            "(the static import closure cannot follow anything else)"
        )

    # files named relative to the module ----------------------------------------------------
    def _path_of(self, node: ast.expr) -> Path | None:
        """The path an expression denotes when built from ``__file__`` or a package's
        resources with literal steps only; None otherwise."""
        if isinstance(node, ast.Call):
            callee = _callee_name(node.func)
            if callee in ("Path", "PurePath") and len(node.args) == 1:
                arg = node.args[0]
                if isinstance(arg, ast.Name) and arg.id == "__file__":
                    return self.file
                return None
            if callee == "files" and len(node.args) == 1 and (pkg := _literal(node.args[0])):
                return self.search.location(pkg)[1] if self.search.owns(pkg) else None
            if isinstance(node.func, ast.Attribute):
                base = self._path_of(node.func.value)
                if base is None:
                    return None
                if callee in ("resolve", "absolute"):
                    return base
                lits = [_literal(a) for a in node.args]
                if callee == "with_name" and len(lits) == 1 and lits[0]:
                    return base.with_name(lits[0])
                if callee == "joinpath" and lits and all(lits):
                    return base.joinpath(*lits)  # type: ignore[arg-type]
            return None
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            base = self._path_of(node.value)
            return base.parent if base is not None else None
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute):
            if node.value.attr == "parents" and isinstance(node.slice, ast.Constant):
                base = self._path_of(node.value.value)
                if base is not None and isinstance(node.slice.value, int):
                    return base.parents[node.slice.value]
            return None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            base, step = self._path_of(node.left), _literal(node.right)
            return base / step if base is not None and step else None
        return None

    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.expr) and not isinstance(node, ast.Name):
            path = self._path_of(node)
            if path is not None and path != self.file:
                if path.exists() and path.resolve() != self.file.parent.resolve():
                    self.refs.append(Reference(node.lineno, path=path.resolve()))
                return  # its operands are the steps of the same path
        super().generic_visit(node)


def references(file: Path, search: SearchPath) -> list[Reference]:
    """What ``file`` imports or names (see the module docstring), in source order."""
    try:
        tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    except SyntaxError as exc:
        raise ClosureError(f"{file}:{exc.lineno}: does not parse: {exc.msg}") from None
    named = search.module_name(file)
    package = None
    if named is not None:
        name, is_init = named
        package = name if is_init else name.rpartition(".")[0] or None
    visitor = _Visitor(file.resolve(), package, search)
    visitor.visit(tree)
    return visitor.refs


def _files_of(ref: Reference, file: Path, search: SearchPath) -> Iterator[Path]:
    """The files one reference pulls in (empty for a third-party module)."""
    if ref.path is not None:
        if search.module_name(ref.path) is not None:  # only files under a root
            yield ref.path
        return
    assert ref.module is not None  # noqa: S101  type narrowing: a ref has a path or a module
    if not search.owns(ref.module):
        return
    if not search.exists(ref.module):
        raise ClosureError(f"{file}:{ref.line}: imports {ref.module!r}, which has no file")
    yield from search.files_of_import(ref.module)
    for name in ref.names:
        sub = f"{ref.module}.{name}"
        if search.exists(sub):
            yield from search.files_of_import(sub)


def import_graph(
    entry: Path, roots: Sequence[Path], cache: dict[tuple, list[Path]] | None = None
) -> dict[Path, Path]:
    """Every file reached from ``entry`` -> the file that first pulled it in (breadth first,
    so following the map back from a file gives a shortest import chain)."""
    search = SearchPath.of(roots)
    cache = {} if cache is None else cache
    entry = Path(entry).resolve()
    parent: dict[Path, Path] = {}
    todo = [entry]
    while todo:
        file = todo.pop(0)
        key = (file, search.roots)
        if key not in cache:
            cache[key] = [d for r in references(file, search) for d in _files_of(r, file, search)]
        for dep in cache[key]:
            if dep not in parent and dep != entry:
                parent[dep] = file
                if dep.suffix == ".py" and dep.is_file():
                    todo.append(dep)
    return parent


def import_chain(entry: Path, target: Path, roots: Sequence[Path]) -> list[Path]:
    """A shortest chain ``entry -> ... -> target`` of files each importing the next; [] when
    ``entry`` does not reach ``target``."""
    parent = import_graph(entry, roots)
    target, entry = Path(target).resolve(), Path(entry).resolve()
    if target not in parent:
        return []
    chain = [target]
    while chain[-1] != entry:
        chain.append(parent[chain[-1]])
    return chain[::-1]


def import_closure(
    entry: Path, roots: Sequence[Path], cache: dict[tuple, list[Path]] | None = None
) -> set[Path]:
    """Every file under ``roots`` that running ``entry`` can import, transitively (resolved
    paths; never ``entry`` itself). ``roots`` are searched in order, like ``sys.path``; pass the
    script's folder first to mirror ``python stages/x.py``. ``cache`` (a dict kept between
    calls) spares re-parsing the files that several closures share."""
    return set(import_graph(entry, roots, cache))
