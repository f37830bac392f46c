"""Golden values of the tiny profile: metrics recorded once from a reproduced tiny repo, which the
e2e tests assert, so that a change of behaviour fails a test (issue 12).

``golden.json`` holds, per metrics file, the subtree of values to match (a few rows per paper),
and the tolerance with the reason for it. ``check(repo, "metrics/ltr.json")`` compares the
repo's file with the recorded subtree. After an intended change of results, re-record from a
freshly reproduced tiny repo and say why in the commit:

    python tests/e2e/golden.py --record /path/to/reproduced/tiny/repo

(the keys recorded stay as they are; only their values are read again from the repo).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

GOLDEN_FILE = Path(__file__).with_name("golden.json")


def load() -> dict[str, Any]:
    return json.loads(GOLDEN_FILE.read_text())


def _leaves(tree: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    if isinstance(tree, dict):
        return [leaf for k, v in tree.items() for leaf in _leaves(v, (*prefix, k))]
    return [(prefix, tree)]


def _get(tree: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            raise KeyError("/".join(path))
        tree = tree[key]
    return tree


def mismatches(got: dict[str, Any], want: dict[str, Any], tol: float) -> list[str]:
    """One line per recorded leaf that ``got`` lacks or that differs by more than ``tol``
    (absolute); ``None`` (an undefined cell) must stay ``None``."""
    out = []
    for path, expected in _leaves(want):
        key = " / ".join(path)
        try:
            value = _get(got, path)
        except KeyError:
            out.append(f"{key}: missing (golden {expected!r})")
            continue
        if expected is None or value is None:
            if value is not expected:
                out.append(f"{key}: {value!r}, golden {expected!r}")
        elif not math.isclose(float(value), float(expected), rel_tol=0.0, abs_tol=tol):
            out.append(f"{key}: {value!r}, golden {expected!r} (|Δ| {abs(value - expected):.3g})")
    return out


def check(repo: Path, metrics_file: str) -> None:
    """Assert that ``repo``'s ``metrics_file`` holds the golden values recorded for it."""
    golden = load()
    want = golden["metrics"][metrics_file]
    tolerance = golden["tolerance"]
    tol = float(tolerance.get(metrics_file, tolerance["default"])["abs"])
    got = json.loads((repo / metrics_file).read_text())
    bad = mismatches(got, want, tol)
    assert not bad, f"{metrics_file} differs from tests/e2e/golden.json:\n" + "\n".join(bad)


def record(repo: Path) -> None:
    """Re-read every recorded leaf of golden.json from ``repo``'s metrics files."""
    golden = load()
    for metrics_file, want in golden["metrics"].items():
        got = json.loads((repo / metrics_file).read_text())
        for path, _ in _leaves(want):
            node = want
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = _get(got, path)
    GOLDEN_FILE.write_text(json.dumps(golden, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "--record":
        sys.exit("usage: python tests/e2e/golden.py --record REPRODUCED_TINY_REPO")
    record(Path(sys.argv[2]))
