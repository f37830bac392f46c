"""Property-based tests of every parser (issue 19): on any input a parser either returns a table
that keeps its contract, or raises an error whose message names the file, the line and the rule.
It never raises a bare exception and never lets a value outside the contract through.

Inputs are lists of lines mixing valid lines, near-misses (a field dropped, doubled, retyped)
and arbitrary text, so hypothesis explores both sides of every rule.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from trustir.annotate.authority_parse import parse_list_scores, parse_permutation
from trustir.annotate.base import get_judge
from trustir.calibration.params import QAParams
from trustir.calibration.qa import QAFormatError, jsonl_qa
from trustir.io.beir import BeirFormatError, read_corpus, read_qrels_tsv, read_query_texts
from trustir.io.clicklog import ClickLogError, read_tiangong_sessions, read_yandex_condensed
from trustir.io.letor import LetorFormatError, read_letor
from trustir.io.trec import TrecFormatError, read_trec_qrels, read_trec_run
from trustir.schema import CORPUS, QRELS

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
#: "<file>:<line>: <rule>": the shape of every parser error message ("<file>: <rule>" only for
#: a rule about the whole file, such as "no questions" in a file of blank lines).
WHERE = re.compile(r"(?P<file>[^\s:]+)(?::(?P<line>\d+))?: (?P<rule>\S.*)", re.S)

ids = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)
words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
ints = st.one_of(
    st.integers(-5, 5).map(str), st.sampled_from(["1.5", "1_0", "٣", "+2", " 1", "", "x", "1e3"])
)
floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "inf", "-inf", "1_0.5", "", "0x1p3"]),
)


safe_ids = st.text("abcdefgh0123456789", min_size=1, max_size=3)
safe_words = st.text("abc xyz", min_size=1, max_size=8).filter(str.strip)
grades = st.integers(-2, 4).map(str)
scores = st.floats(-10, 10, allow_nan=False).map(lambda v: f"{v:.4f}")


@st.composite
def mixed(draw: st.DrawFn, valid: st.SearchStrategy, junk: st.SearchStrategy) -> list[str]:
    """A file of valid lines, in about half the draws with one line replaced by junk: both
    sides of the parser (accepted and rejected) are reached often."""
    lines = draw(st.lists(valid, min_size=1, max_size=6))
    if draw(st.booleans()):
        lines[draw(st.integers(0, len(lines) - 1))] = draw(junk)
    return lines


def either(junk_files: st.SearchStrategy, valid_line: st.SearchStrategy) -> st.SearchStrategy:
    """Junk files, or valid files with one junk line in about half of them."""
    return st.one_of(junk_files, mixed(valid_line, junk_files.map("\n".join)))


def write_lines(lines: list[str], name: str, raw: bytes = b"") -> Path:
    folder = Path(tempfile.mkdtemp(dir=_TMP))
    path = folder / name
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + raw)
    return path


_TMP = tempfile.mkdtemp(prefix="trustir-hypothesis-")


def parsed_or_named(
    read: Callable[[Path], pl.DataFrame], path: Path, errors: tuple
) -> pl.DataFrame | None:
    """``read(path)``; on a parser error check that it names ``path``, a line in the file and a
    rule, and return None. Any other exception fails the test (hypothesis reports it)."""
    try:
        df = read(path)
    except errors as exc:
        event("rejected")  # --hypothesis-show-statistics: both sides must be reached
        m = WHERE.search(str(exc))
        assert m, f"no 'file:line: rule' in {exc!r}"
        assert m["file"].endswith(path.name), str(exc)
        data = path.read_bytes()
        if m["line"] is None:
            assert not data.strip(), f"a line-less error on a non-blank file: {exc}"
        else:
            # XML counts a lone CR as a line break too
            assert 1 <= int(m["line"]) <= len(re.split(rb"\r\n|\r|\n", data)), str(exc)
        return None
    event("parsed" if df.height else "parsed, empty")
    return df


def no_edge_space(s: str) -> bool:
    return s != "" and s == s.strip()


# ------------------------------------------------------------------ BEIR


def json_line(draw: st.DrawFn, text_key: str) -> str:
    record: dict = {}
    if draw(st.booleans()):
        record["_id"] = draw(st.one_of(ids, st.integers(-3, 3), st.none(), st.booleans()))
    for key in ("title", text_key):
        if draw(st.booleans()):
            record[key] = draw(st.one_of(words, st.none(), st.integers(0, 2)))
    line = json.dumps(record, ensure_ascii=draw(st.booleans()))
    return draw(st.sampled_from([line, line[:-1], "[" + line + "]", line + " junk"]))


@st.composite
def jsonl_files(draw: st.DrawFn, text_key: str = "text") -> list[str]:
    line = st.one_of(st.composite(lambda d: json_line(d, text_key))(), words)
    return draw(st.lists(line, max_size=6))


valid_docs = st.builds(
    lambda i, t, x: json.dumps({"_id": i, "title": t, "text": x}), safe_ids, safe_words, safe_words
)
valid_queries = st.builds(lambda i, x: json.dumps({"_id": i, "text": x}), safe_ids, safe_words)


@SETTINGS
@given(either(jsonl_files(), valid_docs))
def test_beir_corpus(lines: list[str]) -> None:
    df = parsed_or_named(read_corpus, write_lines(lines, "corpus.jsonl"), (BeirFormatError,))
    if df is not None:
        assert df.schema == pl.Schema(CORPUS)
        assert df["doc_id"].null_count() == 0 and (df["doc_id"].str.len_chars() > 0).all()
        assert df["doc_id"].n_unique() == df.height
        assert df["title"].null_count() == 0 and df["text"].null_count() == 0


@SETTINGS
@given(either(jsonl_files(), valid_queries))
def test_beir_queries(lines: list[str]) -> None:
    df = parsed_or_named(read_query_texts, write_lines(lines, "queries.jsonl"), (BeirFormatError,))
    if df is not None:
        assert df["query_id"].n_unique() == df.height
        assert df["text"].null_count() == 0


@st.composite
def tsv_lines(draw: st.DrawFn, n_fields: int, header: str, grade: st.SearchStrategy) -> list[str]:
    def one(d: st.DrawFn) -> str:
        fields = [d(ids) for _ in range(n_fields - 1)] + [d(grade)]
        if d(st.booleans()):
            fields = d(st.permutations(fields))[: d(st.integers(0, n_fields + 1))]
        return d(st.sampled_from(["\t", " ", "  "])).join(fields)

    body = draw(st.lists(st.composite(one)(), max_size=6))
    return ([header] if draw(st.booleans()) else []) + body


@SETTINGS
@given(
    either(
        tsv_lines(3, "query-id\tcorpus-id\tscore", ints),
        st.builds(lambda q, d, g: f"{q}\t{d}\t{g}", safe_ids, safe_ids, grades),
    )
)
def test_beir_qrels(lines: list[str]) -> None:
    df = parsed_or_named(read_qrels_tsv, write_lines(lines, "test.tsv"), (BeirFormatError,))
    if df is not None:
        assert df.schema == pl.Schema(QRELS)
        for column in ("query_id", "doc_id"):
            assert all(map(no_edge_space, df[column])), df[column].to_list()
            assert not df[column].str.contains("\t").any()
        assert df.select("query_id", "doc_id").is_unique().all()
        assert df["relevance"].null_count() == 0


def test_beir_qrels_grade_must_be_plain_ascii_digits(tmp_path: Path) -> None:
    """Holes hypothesis found: Python's int() reads "1_0" as 10 and "٣" as 3."""
    for score in ("1_0", "٣", "１"):
        path = tmp_path / "test.tsv"
        path.write_text(f"q1\td1\t{score}\n")
        with pytest.raises(BeirFormatError, match=r"test\.tsv:1: score must be an integer"):
            read_qrels_tsv(path)


# ------------------------------------------------------------------ TREC


@SETTINGS
@given(
    either(
        st.lists(
            st.builds(
                lambda q, z, d, r, s, t, sep: sep.join([q, z, d, r, s, t]),
                ids,
                st.sampled_from(["Q0", "0", ""]),
                ids,
                ints,
                floats,
                ids,
                st.sampled_from([" ", "\t", "  "]),
            ),
            max_size=6,
        ),
        st.builds(
            lambda q, d, r, v: f"{q} Q0 {d} {r} {v} bm25",
            safe_ids,
            safe_ids,
            st.integers(0, 9),
            scores,
        ),
    )
)
def test_trec_run(lines: list[str]) -> None:
    df = parsed_or_named(read_trec_run, write_lines(lines, "x.run"), (TrecFormatError,))
    if df is not None:
        assert df.columns == ["query_id", "doc_id", "score", "rank", "run"]
        assert all(math.isfinite(s) for s in df["score"]), df["score"].to_list()
        assert (df["rank"] >= 0).all()
        assert all(map(no_edge_space, df["query_id"])) and all(map(no_edge_space, df["doc_id"]))
        assert df.select("query_id", "doc_id").is_unique().all()


@SETTINGS
@given(
    either(
        st.lists(
            st.builds(
                lambda q, z, d, r, sep: sep.join([q, z, d, r]),
                ids,
                st.sampled_from(["0", "Q0", ""]),
                ids,
                ints,
                st.sampled_from([" ", "\t"]),
            ),
            max_size=6,
        ),
        st.builds(lambda q, d, g: f"{q} 0 {d} {g}", safe_ids, safe_ids, grades),
    )
)
def test_trec_qrels(lines: list[str]) -> None:
    df = parsed_or_named(read_trec_qrels, write_lines(lines, "qrels.txt"), (TrecFormatError,))
    if df is not None:
        assert df.schema == pl.Schema(QRELS)
        assert df.select("query_id", "doc_id").is_unique().all()
        assert all(map(no_edge_space, df["doc_id"]))


# ------------------------------------------------------------------ LETOR / svmlight


@SETTINGS
@given(
    either(
        st.lists(
            st.builds(
                lambda label, qid, feats, comment: " ".join([label, qid, *feats]) + comment,
                ints,
                st.one_of(ids.map(lambda q: f"qid:{q}"), ids),
                st.lists(st.builds(lambda i, v: f"{i}:{v}", ints, floats), max_size=4),
                st.sampled_from(["", " # docid = d1", "#c", " # docid = "]),
            ),
            max_size=6,
        ),
        st.builds(
            lambda g, q, a, b, d: f"{g} qid:{q} 1:{a} 3:{b} # docid = {d}",
            grades,
            safe_ids,
            scores,
            scores,
            safe_ids,
        ),
    )
)
def test_letor(lines: list[str]) -> None:
    df = parsed_or_named(read_letor, write_lines(lines, "train.txt"), (LetorFormatError,))
    if df is not None:
        assert df.columns[:3] == ["query_id", "doc_id", "relevance"]
        features = df.drop("query_id", "doc_id", "relevance")
        assert all(c.startswith("f") and int(c[1:]) >= 1 for c in features.columns)
        assert all(math.isfinite(v) for c in features.columns for v in features[c])
        assert df.select("query_id", "doc_id").is_unique().all()


# ------------------------------------------------------------------ click logs


@SETTINGS
@given(
    either(
        st.lists(
            st.lists(
                st.builds(
                    lambda q, docs, clicks, sep: f"{q}{sep}{','.join(docs)} : {','.join(clicks)}",
                    ids,
                    st.lists(ids, max_size=4),
                    st.lists(ids, max_size=3),
                    st.sampled_from(["\t", " ", ""]),
                ),
                max_size=3,
            ).map(";".join),
            max_size=4,
        ),
        st.builds(
            lambda q, docs, k: f"{q}\t{','.join(docs)} : {','.join(docs[:k])}",
            safe_ids,
            st.lists(safe_ids, min_size=1, max_size=4),
            st.integers(0, 2),
        ),
    ),
    st.sampled_from([b"", b"\xff\xfe"]),
)
def test_yandex_click_log(lines: list[str], raw: bytes) -> None:
    path = write_lines(lines, "yandex.txt", raw)
    df = parsed_or_named(read_yandex_condensed, path, (ClickLogError,))
    if df is not None:
        assert df.null_count().sum_horizontal().item() == 0
        assert all(map(no_edge_space, df["doc_id"])) and all(map(no_edge_space, df["query_id"]))
        ranks = df.group_by("session_id").agg(pl.col("rank"))
        assert all(r.to_list() == list(range(1, len(r) + 1)) for r in ranks["rank"])


@st.composite
def tiangong_xml(draw: st.DrawFn) -> list[str]:
    """A session file: valid (ranks 1..n, clicks among them, plain ids) or with odd values."""
    valid = draw(st.booleans())
    name, number = (safe_ids, st.integers(1, 3).map(str)) if valid else (ids, ints)
    lines = ["<sessions>", f'<session num="{draw(name)}">']
    for i in range(draw(st.integers(0, 2))):
        lines += [f'<interaction num="{i}">', f"<query_id>{draw(name)}</query_id>", "<results>"]
        n = draw(st.integers(1, 3))
        ranks = [str(r) for r in range(1, n + 1)] if valid else draw(st.lists(ints, max_size=3))
        for r in ranks:
            lines.append(f'<result rank="{r}"><docid>{draw(name)}</docid></result>')
        lines += ["</results>", "<clicked>"]
        for c in draw(st.lists(number, max_size=2)):
            lines.append(f"<click><rank>{c}</rank></click>")
        lines += ["</clicked>", "</interaction>"]
    lines += ["</session>", "</sessions>"]
    if not valid and draw(st.booleans()):  # break the structure somewhere
        del lines[draw(st.integers(0, len(lines) - 1))]
    return lines


@SETTINGS
@given(tiangong_xml())
def test_tiangong_click_log(lines: list[str]) -> None:
    df = parsed_or_named(read_tiangong_sessions, write_lines(lines, "tg.xml"), (ClickLogError,))
    if df is not None:
        assert df.null_count().sum_horizontal().item() == 0
        assert all(map(no_edge_space, df["doc_id"])), df["doc_id"].to_list()
        assert all(map(no_edge_space, df["query_id"]))
        ranks = df.group_by("session_id").agg(pl.col("rank"))
        assert all(r.to_list() == list(range(1, len(r) + 1)) for r in ranks["rank"])


# ------------------------------------------------------------------ judges' replies

replies = st.one_of(
    words,
    st.builds(
        lambda a, b, c: a + b + c,
        st.sampled_from(["", "Answer: ", "**", "Score="]),
        st.sampled_from(["0", "1", "2", "3", "4", "Yes", "No", "yes.", "3a", "-1"]),
        words,
    ),
)


@SETTINGS
@given(st.sampled_from(["relevance", "relevance-binary"]), replies)
def test_judge_replies(name: str, reply: str) -> None:
    judge = get_judge(name)
    verdict = judge.parse(reply)
    if verdict.status == "ok":
        assert verdict.label in judge.values
        assert verdict.score == float(verdict.label)
    else:
        assert verdict.status == "unparseable" and verdict.label is None
    assert verdict.raw == reply


@SETTINGS
@given(
    st.integers(1, 6),
    st.lists(st.one_of(st.integers(-2, 9).map(str), words), max_size=8),
    st.sampled_from([" > ", ", ", " ", "\n", "] > ["]),
    st.booleans(),
)
def test_list_judge_permutations(k: int, tokens: list[str], sep: str, bracket: bool) -> None:
    reply = sep.join(f"[{t}]" if bracket else t for t in tokens)
    p = parse_permutation(reply, k)
    assert p.status in {"valid", "repaired", "invalid"}
    if p.order is None:
        assert p.status == "invalid" and p.notes
    else:
        assert sorted(p.order) == list(range(1, k + 1))


@SETTINGS
@given(
    st.integers(1, 5),
    st.integers(2, 5),
    st.lists(
        st.tuples(st.integers(-1, 7), st.one_of(st.integers(-1, 7).map(str), floats, words)),
        max_size=7,
    ),
    st.sampled_from(["[{i}] {v}", "{i}: {v}", "{i}. name - {v}", "{i} {v}"]),
)
def test_list_judge_scores(k: int, levels: int, pairs: list, form: str) -> None:
    reply = "\n".join(form.format(i=i, v=v) for i, v in pairs)
    s = parse_list_scores(reply, k, levels)
    assert len(s.scores) == k
    assert all(v is None or 1 <= v <= levels for v in s.scores)
    given_n = sum(v is not None for v in s.scores)
    assert s.status == ("valid" if given_n == k else "partial" if given_n else "invalid")


# ------------------------------------------------------------------ QA JSONL


@st.composite
def qa_lines(draw: st.DrawFn) -> list[str]:
    def one(d: st.DrawFn) -> str:
        row: dict = {}
        if d(st.booleans()):
            row["id"] = d(st.one_of(ids, st.integers(0, 3), st.none(), st.lists(ids, max_size=1)))
        if d(st.booleans()):
            row["question"] = d(st.one_of(words, st.none(), st.integers(0, 1)))
        if d(st.booleans()):
            row["answers"] = d(
                st.one_of(
                    st.lists(st.one_of(words, st.none(), st.integers(0, 3)), max_size=3),
                    words,
                    st.none(),
                )
            )
        text = json.dumps(row)
        return d(st.sampled_from([text, text[:-1], f"[{text}]"]))

    return draw(st.lists(st.composite(one)(), max_size=5))


valid_qa = st.builds(
    lambda i, q, a: json.dumps({"id": i, "question": q, "answers": a}),
    safe_ids,
    safe_words,
    st.lists(safe_words, min_size=1, max_size=3),
)


@SETTINGS
@given(either(qa_lines(), valid_qa))
def test_qa_jsonl(lines: list[str]) -> None:
    path = write_lines(lines, "qa.jsonl")
    df = parsed_or_named(lambda p: jsonl_qa(p, QAParams(), 0.5), path, (QAFormatError,))
    if df is not None:
        assert df["qid"].n_unique() == df.height and (df["qid"].str.len_chars() > 0).all()
        assert all(q.strip() for q in df["question"])
        assert all(len(a) >= 1 and all(x.strip() for x in a) for a in df["answers"])
        assert (df["n_answers"] == df["answers"].list.len()).all()
