"""TREC run and qrels text formats (``qid Q0 docid rank score tag`` / ``qid 0 docid rel``).

Malformed input raises :class:`TrecFormatError` whose message starts with ``file:line:`` and
names the rule broken; scores must be finite, ranks non-negative integers, grades integers,
and a (query, document) pair may appear once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from trustir.io.atomic import write_text
from trustir.io.fields import finite_float, plain_int
from trustir.schema import conform


class TrecFormatError(ValueError):
    """A TREC run or qrels line that breaks the format; the message starts with ``file:line:``."""

    def __init__(self, path: Path | str, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path, self.line, self.problem = str(path), line, problem


def write_trec_run(run: pl.DataFrame, target: str | Path) -> Path:
    """Write a run table as a TREC run file (ordered by query, then rank)."""
    rows = run.sort(["query_id", "rank"]).iter_rows(named=True)
    text = "".join(
        f"{r['query_id']} Q0 {r['doc_id']} {r['rank']} {r['score']:.6f} {r['run']}\n" for r in rows
    )
    return write_text(text, target)


def _fields(path: Path, n: int, what: str) -> Iterator[tuple[int, list[str]]]:
    """``(line number, whitespace-split fields)`` of the non-blank lines; ``n`` fields each."""
    data = Path(path).read_bytes()
    for lineno, raw in enumerate(data.split(b"\n"), 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TrecFormatError(path, lineno, f"not UTF-8 ({exc.reason})") from None
        parts = line.split()
        if not parts:
            continue
        if len(parts) != n:
            raise TrecFormatError(path, lineno, f"expected {n} fields '{what}', got {len(parts)}")
        yield lineno, parts


def _once(path: Path, lineno: int, key: tuple[str, str], seen: dict) -> None:
    if key in seen:
        raise TrecFormatError(path, lineno, f"duplicate pair {key} (first on line {seen[key]})")
    seen[key] = lineno


def read_trec_run(path: str | Path) -> pl.DataFrame:
    """Read a TREC run file into the run table (query_id, doc_id, score, rank, run)."""
    rows = []
    seen: dict[tuple[str, str], int] = {}
    for n, parts in _fields(Path(path), 6, "qid Q0 docid rank score tag"):
        rank, score = plain_int(parts[3]), finite_float(parts[4])
        if rank is None or rank < 0:
            raise TrecFormatError(path, n, f"rank must be a non-negative integer, got {parts[3]!r}")
        if score is None:
            raise TrecFormatError(path, n, f"score must be a finite number, got {parts[4]!r}")
        _once(Path(path), n, (parts[0], parts[2]), seen)
        rows.append((parts[0], parts[2], score, rank, parts[5]))
    return pl.DataFrame(
        rows,
        schema={
            "query_id": pl.String,
            "doc_id": pl.String,
            "score": pl.Float64,
            "rank": pl.Int64,
            "run": pl.String,
        },
        orient="row",
    )


def read_trec_qrels(path: str | Path, source: str = "human") -> pl.DataFrame:
    """Read a TREC qrels file (``qid iter docid rel``) into the qrels table."""
    rows = []
    seen: dict[tuple[str, str], int] = {}
    for n, parts in _fields(Path(path), 4, "qid iter docid rel"):
        rel = plain_int(parts[3])
        if rel is None:
            raise TrecFormatError(path, n, f"relevance must be an integer, got {parts[3]!r}")
        _once(Path(path), n, (parts[0], parts[2]), seen)
        rows.append((parts[0], parts[2], rel))
    df = pl.DataFrame(
        rows,
        schema={"query_id": pl.String, "doc_id": pl.String, "relevance": pl.Int64},
        orient="row",
    )
    return conform(df.with_columns(source=pl.lit(source)), "qrels")
