"""BEIR folders: reading the contracts, clear errors on malformed lines, subsets, SciFact counts."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import polars as pl
import pytest

from trustir.io.beir import BeirFormatError, read_beir, write_beir
from trustir.paths import resolve_data_path
from trustir.schema import CORPUS, QRELS, QUERIES
from trustir.sources.local import load_local
from trustir.sources.params import DataParams
from trustir.sources.registry import SOURCES
from trustir.sources.subset import stable_order, subset

REPO = Path(__file__).resolve().parents[2]
TINY = Path(__file__).resolve().parents[1] / "fixtures" / "beir_tiny"
SCIFACT = "../shared/data/beir_scifact"


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A writable copy of the handmade fixture folder."""
    return Path(shutil.copytree(TINY, tmp_path / "tiny"))


def _rows(df: pl.DataFrame, *cols: str) -> set[tuple]:
    return set(df.select(cols).iter_rows())


def test_reads_fixture_into_contracts() -> None:
    t = read_beir(TINY)
    assert dict(t["corpus"].schema) == CORPUS
    assert dict(t["queries"].schema) == QUERIES
    assert dict(t["qrels"].schema) == QRELS
    corpus = t["corpus"]
    assert corpus["doc_id"].to_list() == ["d1", "d2", "007", "d4", "d5", "d6", "d7", "d8"]
    assert corpus.filter(pl.col("doc_id") == "d5")["title"].item() == ""
    assert corpus["domain"].null_count() == corpus.height == corpus["url"].null_count()
    splits = dict(t["queries"].select("query_id", "split").iter_rows())
    # 4 is judged in both files -> test; 5 is judged nowhere -> an unlabelled train query
    assert splits == {"1": "test", "2": "test", "3": "train", "4": "test", "5": "train"}
    assert t["queries"]["freq"].null_count() == 5
    assert _rows(t["qrels"], "query_id", "doc_id", "relevance") == {
        ("1", "d1", 1),
        ("2", "d2", 2),
        ("2", "007", 0),
        ("4", "d6", 1),  # the test grade wins over train's 2
        ("4", "d8", 1),
        ("3", "d4", 1),
    }
    assert t["qrels"]["source"].unique().to_list() == ["human"]


def test_write_then_read_round_trips(tmp_path: Path) -> None:
    t = read_beir(TINY)
    q, qrels = t["queries"], t["qrels"]
    test_ids = q.filter(pl.col("split") == "test")["query_id"].implode()
    write_beir(
        tmp_path / "copy",
        t["corpus"],
        q,
        qrels.filter(pl.col("query_id").is_in(test_ids)),
        qrels.filter(~pl.col("query_id").is_in(test_ids)),
    )
    back = read_beir(tmp_path / "copy")
    for name in ("corpus", "queries", "qrels"):
        assert back[name].sort(back[name].columns[:2]).equals(t[name].sort(t[name].columns[:2]))


def _replace_line(path: Path, lineno: int, text: str) -> None:
    lines = path.read_text().splitlines()
    lines[lineno - 1] = text
    path.write_text("\n".join(lines) + "\n")


def test_a_document_without_text_reads_as_title_only(tiny: Path) -> None:
    """BEIR's loader keeps a missing text (None); trustir reads it as "" (issue 19)."""
    _replace_line(tiny / "corpus.jsonl", 5, '{"_id": "x", "title": "no text"}')
    corpus = read_beir(tiny)["corpus"]
    assert corpus.filter(pl.col("doc_id") == "x").select("title", "text").row(0) == ("no text", "")


@pytest.mark.parametrize(
    ("file", "line", "text", "problem"),
    [
        ("corpus.jsonl", 3, '{"_id": "x", "text": "unterminated', "invalid JSON"),
        ("corpus.jsonl", 2, '{"title": "t", "text": "no id"}', "missing '_id'"),
        ("corpus.jsonl", 4, '{"_id": "x", "text": 42}', "'text' must be a string"),
        ("corpus.jsonl", 5, '{"_id": "x", "title": 7}', "'title' must be a string"),
        ("corpus.jsonl", 6, '["_id", "x"]', "expected a JSON object"),
        ("corpus.jsonl", 7, '{"_id": "d1", "text": "again"}', "duplicate '_id' 'd1'"),
        ("queries.jsonl", 2, '{"_id": ["2"], "text": "q"}', "'_id' must be a string"),
        ("queries.jsonl", 4, '{"_id": "4", "text": null}', "'text' is null"),
    ],
)
def test_malformed_jsonl_names_file_and_line(
    tiny: Path, file: str, line: int, text: str, problem: str
) -> None:
    _replace_line(tiny / file, line, text)
    with pytest.raises(BeirFormatError) as err:
        read_beir(tiny)
    assert f"{file}:{line}" in str(err.value)
    assert problem in str(err.value)


@pytest.mark.parametrize(
    ("line", "text", "problem"),
    [
        (3, "2 d2 2", "expected 3 tab-separated fields"),
        (4, "2\t007\tyes", "score must be an integer"),
        (5, "4\td6\t1\textra", "got 4"),
        (3, "1\td1\t1", "duplicate pair"),
    ],
)
def test_malformed_tsv_names_file_and_line(tiny: Path, line: int, text: str, problem: str) -> None:
    _replace_line(tiny / "qrels" / "test.tsv", line, text)
    with pytest.raises(BeirFormatError) as err:
        read_beir(tiny)
    assert f"test.tsv:{line}" in str(err.value)
    assert problem in str(err.value)


def test_missing_test_qrels_is_an_error(tiny: Path) -> None:
    (tiny / "qrels" / "test.tsv").unlink()
    with pytest.raises(BeirFormatError, match="test.tsv: file not found"):
        read_beir(tiny)


def test_train_qrels_are_optional(tiny: Path) -> None:
    (tiny / "qrels" / "train.tsv").unlink()
    t = read_beir(tiny)
    assert t["queries"].filter(pl.col("split") == "train")["query_id"].to_list() == ["3", "5"]
    assert t["qrels"].height == 4


def test_crlf_and_blank_lines_are_tolerated(tiny: Path) -> None:
    for rel in ("corpus.jsonl", "qrels/test.tsv"):
        p = tiny / rel
        p.write_bytes(p.read_bytes().replace(b"\n", b"\r\n") + b"\r\n\n")
    t = read_beir(tiny)
    assert t["corpus"].height == 8
    assert t["qrels"].height == 6


# ---------------------------------------------------------------- subset


def test_stable_order_is_seeded_and_deterministic() -> None:
    ids = [str(i) for i in range(50)]
    assert stable_order(ids, 1) == stable_order(list(reversed(ids)), 1)
    assert stable_order(ids, 1) != stable_order(ids, 2)


def test_subset_respects_limits_and_keeps_judged_docs() -> None:
    t = read_beir(TINY)
    s = subset(t, max_queries=1, max_docs=3, seed=7)
    split = s["queries"]["split"].to_list()
    assert sorted(split) == ["test", "train"]  # at most one query of each split
    kept_q = set(s["queries"]["query_id"])
    assert set(s["qrels"]["query_id"]) <= kept_q
    assert s["qrels"].height == t["qrels"].filter(pl.col("query_id").is_in(list(kept_q))).height
    judged = set(s["qrels"]["doc_id"])
    docs = set(s["corpus"]["doc_id"])
    assert judged <= docs
    assert len(docs) == max(3, len(judged))
    # deterministic, and the input is untouched
    assert subset(t, max_queries=1, max_docs=3, seed=7)["corpus"].equals(s["corpus"])
    assert t["corpus"].height == 8


def test_subset_keeps_judged_docs_beyond_max_docs() -> None:
    t = read_beir(TINY)
    s = subset(t, max_docs=1, seed=0)
    assert s["queries"].height == 5
    assert set(s["corpus"]["doc_id"]) == set(t["qrels"]["doc_id"])


def test_subset_none_is_identity() -> None:
    t = read_beir(TINY)
    s = subset(t, None, None, seed=3)
    assert all(s[k].equals(t[k]) for k in t)


def test_load_local_resolves_against_root_and_subsets() -> None:
    params = DataParams(source="local", path="tests/fixtures/beir_tiny", max_queries=2)
    t = load_local(params, root=REPO)
    assert t["queries"].filter(pl.col("split") == "test").height == 2
    assert SOURCES.get("local") is load_local
    with pytest.raises(ValueError, match="data.path"):
        load_local(DataParams(source="local"), root=REPO)


# ---------------------------------------------------------------- the real SciFact copy


def _scifact() -> Path:
    try:
        return resolve_data_path(SCIFACT, root=REPO)
    except FileNotFoundError:
        pytest.skip(f"real SciFact copy {SCIFACT} (relative to the repo root) is absent")


def test_scifact_counts() -> None:
    folder = _scifact()
    start = time.perf_counter()
    t = read_beir(folder)
    elapsed = time.perf_counter() - start
    q, qrels = t["queries"], t["qrels"]
    assert t["corpus"].height == 5183
    assert q.height == 1109
    test_ids = q.filter(pl.col("split") == "test")["query_id"]
    assert test_ids.len() == 300
    in_test = pl.col("query_id").is_in(test_ids.implode())
    assert qrels.filter(in_test).height == 339
    assert qrels.filter(~in_test).height == 919
    assert elapsed < 5, f"reading SciFact took {elapsed:.2f}s"


def test_scifact_subset_via_local_source() -> None:
    _scifact()
    params = DataParams(source="local", path=SCIFACT, max_queries=20, max_docs=200)
    t = SOURCES.get("local")(params, REPO)
    q = t["queries"]
    assert q.filter(pl.col("split") == "test").height == 20
    assert q.filter(pl.col("split") == "train").height == 20
    assert t["corpus"].height == 200
    assert set(t["qrels"]["doc_id"]) <= set(t["corpus"]["doc_id"])
