"""BEIR-layout folders: read ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/*.tsv`` into contracts.

A BEIR folder holds ``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl`` (``_id``,
``text``), ``qrels/test.tsv`` and optionally ``qrels/train.tsv`` (header ``query-id corpus-id
score``, tab-separated). :func:`read_beir` returns the ``corpus``, ``queries`` and ``qrels`` tables
of DESIGN.md: a query judged in the test qrels has split "test", every other query (judged in the
train qrels, or not judged at all) has split "train"; every qrel has source "human". Any malformed
line raises :class:`BeirFormatError` naming ``file:line`` and the problem.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl

from trustir.io.atomic import write_text
from trustir.io.fields import plain_int
from trustir.schema import conform

try:  # orjson parses SciFact's 8 MB corpus ~5x faster; the stdlib is the fallback.
    import orjson

    _loads: Callable[[bytes], Any] = orjson.loads
except ImportError:  # pragma: no cover - orjson is present wherever prefect is
    _loads = json.loads

log = logging.getLogger(__name__)

CORPUS_FILE = "corpus.jsonl"
QUERIES_FILE = "queries.jsonl"
QRELS_DIR = "qrels"
QRELS_HEADER = ("query-id", "corpus-id", "score")
#: qrels files read, in priority order: a query judged in both is a test query.
QRELS_SPLITS = ("test", "train")
HUMAN = "human"
_QUERY_TEXTS = {"query_id": pl.String, "text": pl.String}


class BeirFormatError(ValueError):
    """A BEIR file that does not follow the layout; the message starts with ``file:line:``."""

    def __init__(self, path: Path | str, line: int | None, problem: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")
        self.path, self.line, self.problem = str(path), line, problem


# ---------------------------------------------------------------- reading


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """Yield ``(1-based line number, raw line)`` for the non-blank lines of ``path``."""
    if not path.is_file():
        raise BeirFormatError(path, None, "file not found")
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for i, line in enumerate(data.split(b"\n"), start=1):
        if line.strip():
            yield i, line


def _record(path: Path, lineno: int, raw: bytes) -> dict[str, Any]:
    try:
        obj = _loads(raw)
    except ValueError as exc:
        raise BeirFormatError(path, lineno, f"invalid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise BeirFormatError(path, lineno, f"expected a JSON object, got {type(obj).__name__}")
    return obj


def _id(path: Path, lineno: int, obj: dict[str, Any]) -> str:
    if "_id" not in obj:
        raise BeirFormatError(path, lineno, "missing '_id'")
    value = obj["_id"]
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BeirFormatError(path, lineno, f"'_id' must be a string, got {value!r}")
    value = str(value)
    if not value:
        raise BeirFormatError(path, lineno, "empty '_id'")
    return value


def _string(path: Path, lineno: int, obj: dict[str, Any], key: str, *, required: bool) -> str:
    value = obj.get(key)
    if value is None:
        if required:
            problem = f"missing '{key}'" if key not in obj else f"'{key}' is null"
            raise BeirFormatError(path, lineno, problem)
        return ""
    if not isinstance(value, str):
        raise BeirFormatError(path, lineno, f"'{key}' must be a string, got {type(value).__name__}")
    return value


def _read_jsonl(path: Path, fields: dict[str, bool]) -> tuple[list[str], dict[str, list[str]]]:
    """Ids and string columns of a BEIR JSONL file; ``fields`` maps a key to "required"."""
    ids: list[str] = []
    cols: dict[str, list[str]] = {k: [] for k in fields}
    first_line: dict[str, int] = {}
    for lineno, raw in _lines(path):
        obj = _record(path, lineno, raw)
        key = _id(path, lineno, obj)
        if key in first_line:
            raise BeirFormatError(
                path, lineno, f"duplicate '_id' {key!r} (first on line {first_line[key]})"
            )
        first_line[key] = lineno
        ids.append(key)
        for name, required in fields.items():
            cols[name].append(_string(path, lineno, obj, name, required=required))
    return ids, cols


def read_corpus(path: str | Path) -> pl.DataFrame:
    """The corpus table of a BEIR ``corpus.jsonl``: a missing or null title or text reads as ""
    (as BEIR's loader, which keeps None; a title-only document is embedded as its title)."""
    path = Path(path)
    ids, cols = _read_jsonl(path, {"title": False, "text": False})
    df = pl.DataFrame({"doc_id": ids, "title": cols["title"], "text": cols["text"]})
    return conform(df, "corpus")


def read_query_texts(path: str | Path) -> pl.DataFrame:
    """``query_id``, ``text`` of a BEIR ``queries.jsonl`` (no split yet)."""
    path = Path(path)
    ids, cols = _read_jsonl(path, {"text": True})
    return pl.DataFrame({"query_id": ids, "text": cols["text"]}, schema=_QUERY_TEXTS)


def _qrel_row(path: Path, lineno: int, raw: bytes) -> tuple[str, str, int]:
    try:
        line = raw.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise BeirFormatError(path, lineno, f"not UTF-8 ({exc})") from None
    fields = line.split("\t")
    if len(fields) != 3:
        raise BeirFormatError(
            path,
            lineno,
            f"expected 3 tab-separated fields (query-id, corpus-id, score), got {len(fields)}: "
            f"{line[:80]!r}",
        )
    qid, did, score = (f.strip() for f in fields)
    if not qid or not did:
        raise BeirFormatError(path, lineno, f"empty query-id or corpus-id: {line[:80]!r}")
    rel = plain_int(score)
    if rel is None:
        raise BeirFormatError(path, lineno, f"score must be an integer, got {score!r}")
    return qid, did, rel


def read_qrels_tsv(path: str | Path) -> pl.DataFrame:
    """A BEIR qrels file as ``query_id, doc_id, relevance, source="human"``.

    The header line (``query-id corpus-id score``) is optional; a repeated (query, doc) pair is
    an error, since its grade would be ambiguous.
    """
    path = Path(path)
    qids: list[str] = []
    dids: list[str] = []
    rels: list[int] = []
    seen: dict[tuple[str, str], int] = {}
    for n, (lineno, raw) in enumerate(_lines(path)):
        if n == 0 and raw.decode("utf-8", "replace").split("\t")[0].strip() == QRELS_HEADER[0]:
            continue
        qid, did, rel = _qrel_row(path, lineno, raw)
        if (qid, did) in seen:
            raise BeirFormatError(
                path, lineno, f"duplicate pair ({qid!r}, {did!r}) (first on line {seen[qid, did]})"
            )
        seen[qid, did] = lineno
        qids.append(qid)
        dids.append(did)
        rels.append(rel)
    df = pl.DataFrame(
        {"query_id": qids, "doc_id": dids, "relevance": rels},
        schema={"query_id": pl.String, "doc_id": pl.String, "relevance": pl.Int64},
    )
    return conform(df.with_columns(source=pl.lit(HUMAN)), "qrels")


def _known_only(qrels: pl.DataFrame, queries: pl.DataFrame, folder: Path) -> pl.DataFrame:
    """Drop (and log) qrels of queries absent from ``queries.jsonl``: they cannot be evaluated."""
    known = qrels["query_id"].is_in(queries["query_id"].implode())
    n_bad = int((~known).sum())
    if n_bad:
        examples = qrels.filter(~known)["query_id"].unique().sort().head(5).to_list()
        log.warning(
            "%s: %d qrels name queries missing from %s (e.g. %s); dropped",
            folder,
            n_bad,
            QUERIES_FILE,
            examples,
        )
    return qrels.filter(known)


def _warn_unknown_docs(qrels: pl.DataFrame, corpus: pl.DataFrame, folder: Path) -> None:
    missing = qrels.filter(~pl.col("doc_id").is_in(corpus["doc_id"].implode()))
    if missing.height:
        log.warning(
            "%s: %d qrels name documents missing from %s (e.g. %s); kept (unretrievable)",
            folder,
            missing.height,
            CORPUS_FILE,
            missing["doc_id"].head(5).to_list(),
        )


def read_beir(folder: str | Path) -> dict[str, pl.DataFrame]:
    """Read a BEIR folder into ``{"corpus", "queries", "qrels"}`` frames (DESIGN.md contracts).

    ``qrels/test.tsv`` is required; ``qrels/train.tsv`` is optional. Other qrels files (``dev``)
    are ignored, so their queries count as unlabelled training queries.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"BEIR folder {folder} does not exist")
    corpus = read_corpus(folder / CORPUS_FILE)
    texts = read_query_texts(folder / QUERIES_FILE)
    test_path = folder / QRELS_DIR / "test.tsv"
    if not test_path.is_file():
        raise BeirFormatError(test_path, None, "file not found (a BEIR folder needs test qrels)")
    parts = [read_qrels_tsv(test_path)]
    train_path = folder / QRELS_DIR / "train.tsv"
    if train_path.is_file():
        parts.append(read_qrels_tsv(train_path))
    test_ids = parts[0]["query_id"].unique().implode()
    split = (
        pl.when(pl.col("query_id").is_in(test_ids)).then(pl.lit("test")).otherwise(pl.lit("train"))
    )
    queries = conform(texts.with_columns(split=split), "queries")
    # a (query, doc) pair judged in both files keeps its test grade
    qrels = pl.concat(parts).unique(["query_id", "doc_id"], keep="first", maintain_order=True)
    qrels = _known_only(qrels, queries, folder)
    _warn_unknown_docs(qrels, corpus, folder)
    return {"corpus": corpus, "queries": queries, "qrels": qrels}


def find_beir_root(folder: str | Path) -> Path:
    """The folder holding ``corpus.jsonl``: ``folder`` itself or its only subfolder (zip layout)."""
    folder = Path(folder)
    if (folder / CORPUS_FILE).is_file():
        return folder
    subs = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))]
    if len(subs) == 1 and (subs[0] / CORPUS_FILE).is_file():
        return subs[0]
    raise FileNotFoundError(f"no {CORPUS_FILE} in {folder} or in a single subfolder of it")


# ---------------------------------------------------------------- writing


def _jsonl(rows: Iterator[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def _qrels_tsv(qrels: pl.DataFrame) -> str:
    lines = ["\t".join(QRELS_HEADER)]
    for qid, did, rel in qrels.select("query_id", "doc_id", "relevance").iter_rows():
        lines.append(f"{qid}\t{did}\t{int(rel)}")
    return "\n".join(lines) + "\n"


def write_beir(
    folder: str | Path,
    corpus: pl.DataFrame,
    queries: pl.DataFrame,
    qrels_test: pl.DataFrame,
    qrels_train: pl.DataFrame | None = None,
) -> Path:
    """Write frames as a BEIR folder (each file atomically); the inverse of :func:`read_beir`.

    ``corpus`` needs ``doc_id``, ``text`` (``title`` optional); ``queries`` needs ``query_id``,
    ``text``; qrels need ``query_id``, ``doc_id``, ``relevance``. Extra columns are not written.
    """
    folder = Path(folder)
    titles = corpus["title"] if "title" in corpus.columns else pl.Series([""] * corpus.height)
    docs = zip(corpus["doc_id"], titles, corpus["text"], strict=True)
    write_text(
        _jsonl({"_id": str(d), "title": t or "", "text": x} for d, t, x in docs),
        folder / CORPUS_FILE,
    )
    qs = zip(queries["query_id"], queries["text"], strict=True)
    write_text(_jsonl({"_id": str(q), "text": t} for q, t in qs), folder / QUERIES_FILE)
    write_text(_qrels_tsv(qrels_test), folder / QRELS_DIR / "test.tsv")
    if qrels_train is not None:
        write_text(_qrels_tsv(qrels_train), folder / QRELS_DIR / "train.tsv")
    return folder
