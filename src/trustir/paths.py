"""Where things are: the repo root (also inside DVC's temp/queued experiment copies) and caches."""

from __future__ import annotations

import os
from pathlib import Path

#: DVC runs ``--temp`` and ``--queue`` experiments in a copy of the repo under this folder.
_EXP_WORKSPACE = ("/.dvc/tmp/exps/",)


def repo_root(start: str | Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: cwd) holding ``dvc.yaml`` or ``.dvc``."""
    here = Path(start or os.getcwd()).resolve()
    for cand in (here, *here.parents):
        if (cand / "dvc.yaml").exists() or (cand / ".dvc").is_dir():
            return cand
    return here


def origin_root(root: Path) -> Path | None:
    """The user's repo when ``root`` is a DVC experiment copy inside its ``.dvc/tmp/exps``."""
    text = root.as_posix() + "/"
    for marker in _EXP_WORKSPACE:
        if marker in text:
            return Path(text.split(marker, 1)[0])
    return None


def resolve_data_path(path: str | Path, root: Path | None = None) -> Path:
    """Resolve a params path against the repo root, falling back to the user's repo in experiments.

    A relative ``data.path`` such as ``../shared/data/beir_scifact`` names a folder relative to the
    repo the user works in; DVC runs queued and ``--temp`` experiments in a copy under
    ``.dvc/tmp/exps/``, where the same relative path points elsewhere. Raises FileNotFoundError
    listing every place tried.
    """
    p = Path(path).expanduser()
    if p.is_absolute():
        if p.exists():
            return p
        raise FileNotFoundError(f"data path {p} does not exist")
    root = root or repo_root()
    tried = [root / p]
    origin = origin_root(root)
    if origin is not None:
        tried.append(origin / p)
    for cand in tried:
        if cand.exists():
            return cand.resolve()
    raise FileNotFoundError(
        f"data path {str(path)!r} not found; tried " + ", ".join(str(t) for t in tried)
    )


def cache_dir(kind: str) -> Path:
    """A persistent per-user cache folder (downloads, models): ``$TRUSTIR_CACHE/<kind>``.

    Defaults to ``$XDG_CACHE_HOME/trustir`` (``~/.cache/trustir``); outside DVC's outputs on
    purpose, like DVC's own cache.
    """
    base = os.environ.get("TRUSTIR_CACHE")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        base = str(Path(xdg) / "trustir")
    d = Path(base) / kind
    d.mkdir(parents=True, exist_ok=True)
    return d
