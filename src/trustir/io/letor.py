"""LETOR / svmlight ranking files: ``<grade> qid:<id> <i>:<value> ... [# docid = <id> ...]``.

:func:`read_letor` gives one row per line: ``query_id``, ``doc_id`` (the comment's ``docid``,
else ``line<N>``), ``relevance`` (int) and dense feature columns ``f1..fK`` (K the largest index
used; an absent feature is 0.0, svmlight's sparse convention). Feature indices must be positive
integers, strictly increasing within a line; values finite numbers. Anything else raises
:class:`LetorFormatError` whose message starts with ``file:line:``.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from trustir.io.fields import finite_float, plain_int

_DOCID = re.compile(r"\bdocid\s*[=:]\s*(\S+)")


class LetorFormatError(ValueError):
    """A LETOR line that breaks the format; the message starts with ``file:line:``."""

    def __init__(self, path: Path | str, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path, self.line, self.problem = str(path), line, problem


def _features(path: Path, n: int, tokens: list[str]) -> dict[int, float]:
    feats: dict[int, float] = {}
    last = 0
    for tok in tokens:
        index, colon, value = tok.partition(":")
        i, v = plain_int(index), finite_float(value)
        if not colon or i is None or i < 1:
            raise LetorFormatError(path, n, f"feature {tok!r}: index must be a positive integer")
        if i <= last:
            raise LetorFormatError(path, n, f"feature indices must increase, got {i} after {last}")
        if v is None:
            raise LetorFormatError(
                path, n, f"feature {i}: value must be a finite number, got {value!r}"
            )
        feats[i] = v
        last = i
    return feats


def _line(path: Path, n: int, line: str) -> tuple[str, str, int, dict[int, float]] | None:
    body, _, comment = line.partition("#")
    tokens = body.split()
    if not tokens:
        return None
    grade = plain_int(tokens[0])
    if grade is None:
        raise LetorFormatError(path, n, f"the grade must be an integer, got {tokens[0]!r}")
    if len(tokens) < 2 or not tokens[1].startswith("qid:") or tokens[1] == "qid:":
        raise LetorFormatError(path, n, "the second field must be qid:<query id>")
    doc = _DOCID.search(comment)
    return tokens[1][4:], doc.group(1) if doc else f"line{n}", grade, _features(path, n, tokens[2:])


def read_letor(path: str | Path) -> pl.DataFrame:
    """The rows of a LETOR / svmlight file (see the module docstring)."""
    path = Path(path)
    rows = []
    seen: dict[tuple[str, str], int] = {}
    for n, raw in enumerate(path.read_bytes().split(b"\n"), 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LetorFormatError(path, n, f"not UTF-8 ({exc.reason})") from None
        row = _line(path, n, text)
        if row is None:
            continue
        if row[:2] in seen:
            raise LetorFormatError(path, n, f"duplicate document {row[:2]} (line {seen[row[:2]]})")
        seen[row[:2]] = n
        rows.append(row)
    width = max((max(f, default=0) for *_, f in rows), default=0)
    data: dict[str, list] = {
        "query_id": [r[0] for r in rows],
        "doc_id": [r[1] for r in rows],
        "relevance": [r[2] for r in rows],
    }
    for i in range(1, width + 1):
        data[f"f{i}"] = [r[3].get(i, 0.0) for r in rows]
    schema = {"query_id": pl.String, "doc_id": pl.String, "relevance": pl.Int64}
    return pl.DataFrame(data, schema=schema | {f"f{i}": pl.Float64 for i in range(1, width + 1)})
