"""The validate library: GX suites pass clean tables and name each broken rule, count and ids."""

from __future__ import annotations

import json
import subprocess
import sys

import polars as pl
import pytest

from trustir.schema import conform
from trustir.validate import ValidationFailed, rules_for, validate_tables


def base_tables() -> dict[str, pl.DataFrame]:
    """Tiny tables that keep every contract, conformed as the fetch stage writes them."""
    corpus = pl.DataFrame(
        {
            "doc_id": ["d00001", "d00002", "d00003", "d00004"],
            "title": ["", "Paris", "Rome", "Oslo"],
            "text": ["a doc", "Paris is in France.", "Rome is in Italy.", "Oslo is in Norway."],
        }
    )
    queries = pl.DataFrame(
        {
            "query_id": ["q001", "q002", "q003"],
            "text": ["where is paris", "where is rome", "where is oslo"],
            "split": ["train", "test", "test"],
            "freq": [3, None, 1],
        }
    )
    qrels = pl.DataFrame(
        {
            "query_id": ["q001", "q001", "q002", "q003", "q003"],
            "doc_id": ["d00002", "d00002", "d00003", "d00004", "d00001"],
            "relevance": [3, 1, 2, 3, 0],
            "source": ["world", "human", "world", "world", "llm:smollm2"],
        }
    )
    domains = pl.DataFrame(
        {"domain": ["a.org", "b.org"], "pagerank": [0.25, 0.75], "level": [0, 1]}
    )
    return {
        "corpus": conform(corpus, "corpus"),
        "queries": conform(queries, "queries"),
        "qrels": conform(qrels, "qrels"),
        "domains": conform(domains, "domains"),
        "links": pl.DataFrame({"src": ["a.org"], "dst": ["b.org"]}),
        "entities": pl.DataFrame({"entity_id": ["e1", "e2"], "name": ["Paris", "Rome"]}),
    }


@pytest.fixture(scope="module")
def valid_report() -> dict:
    """The report of the clean tables; the first call pays Great Expectations' import once."""
    return validate_tables(base_tables())


def failure(tables: dict[str, pl.DataFrame], **kwargs: int) -> str:
    with pytest.raises(ValidationFailed) as info:
        validate_tables(tables, **kwargs)
    return str(info.value)


def with_row(tables: dict[str, pl.DataFrame], table: str, **row: object) -> dict:
    """``tables`` with one more row in ``table`` (other columns null)."""
    df = tables[table]
    extra = pl.DataFrame([row]).select(
        [pl.lit(row.get(c)).cast(t).alias(c) for c, t in df.schema.items()]
    )
    return tables | {table: pl.concat([df, extra])}


def test_valid_tables_pass_and_every_rule_is_reported(valid_report: dict) -> None:
    assert set(valid_report) == {"corpus", "queries", "qrels", "domains", "links", "entities"}
    tables = base_tables()
    for table, outcomes in valid_report.items():
        assert list(outcomes) == [r.name for r in rules_for(table, tables)]
        for rule, outcome in outcomes.items():
            assert outcome == {"success": True, "unexpected_count": 0, "examples": []} | (
                {"observed": outcome["observed"]} if "observed" in outcome else {}
            ), rule
    assert "doc_id must be unique" in valid_report["corpus"]
    assert "doc_id must name a document in corpus" in valid_report["qrels"]
    assert "(query_id, doc_id, source) must be unique" in valid_report["qrels"]
    json.dumps(valid_report)


def test_duplicate_doc_id_is_named() -> None:
    tables = with_row(base_tables(), "corpus", doc_id="d00003", title="t", text="again")
    message = failure(tables)
    assert message == (
        "validation failed: corpus: doc_id must be unique — 2 rows fail (e.g. d00003, d00003)"
    )


def test_qrels_unknown_doc_is_named() -> None:
    tables = with_row(base_tables(), "qrels", query_id="q002", doc_id="nope-doc", relevance=1)
    tables["qrels"] = tables["qrels"].with_columns(pl.col("source").fill_null("world"))
    message = failure(tables)
    assert message == (
        "validation failed: qrels: doc_id must name a document in corpus — 1 rows fail "
        "(e.g. nope-doc)"
    )


def test_qrels_unknown_query_is_named() -> None:
    tables = base_tables()
    tables["qrels"] = tables["qrels"].with_columns(
        query_id=pl.when(pl.col("query_id") == "q003").then(pl.lit("q999")).otherwise("query_id")
    )
    message = failure(tables)
    assert "qrels: query_id must name a query in queries — 2 rows fail (e.g. q999, q999)" in message


def test_empty_query_text_is_named() -> None:
    tables = base_tables()
    tables["queries"] = tables["queries"].with_columns(
        text=pl.when(pl.col("query_id") == "q002").then(pl.lit(" ")).otherwise("text")
    )
    message = failure(tables)
    assert message == (
        "validation failed: queries: text must not be empty — 1 rows fail (e.g. q002 (' '))"
    )


def test_relevance_out_of_range_is_named() -> None:
    tables = base_tables()
    tables["qrels"] = tables["qrels"].with_columns(
        relevance=pl.when(pl.col("source") == "human").then(7).otherwise("relevance")
    )
    with pytest.raises(ValidationFailed) as info:
        validate_tables(tables, grades=(0, 3))
    assert str(info.value) == (
        "validation failed: qrels: relevance must be a grade between 0 and 3 — 1 rows fail "
        "(e.g. q001/d00002/human (7))"
    )
    # without bounds (a real collection) any integer grade passes
    assert validate_tables(tables)["qrels"]["relevance must be an integer"]["success"]


def test_split_outside_the_set_is_named() -> None:
    tables = base_tables()
    tables["queries"] = tables["queries"].with_columns(split=pl.lit("dev"))
    message = failure(tables)
    assert message == (
        'validation failed: queries: split must be "train" or "test" — 3 rows fail '
        "(e.g. q001 ('dev'), q002 ('dev'), q003 ('dev'))"
    )


def test_every_failure_is_listed_with_at_most_five_examples() -> None:
    tables = base_tables()
    ids = [f"x{i}" for i in range(8)]
    tables["corpus"] = tables["corpus"].with_columns(title=pl.lit(None, pl.String))
    tables["entities"] = pl.DataFrame({"entity_id": ["e1", "e1"]})
    tables["links"] = pl.DataFrame({"src": ids, "dst": ["a.org"] * 8})
    with pytest.raises(ValidationFailed) as info:
        validate_tables(tables)
    lines = str(info.value).splitlines()
    assert lines[0] == "validation failed: 3 rules"
    assert lines[1:] == [
        "  corpus: title must not be null — 4 rows fail "
        "(e.g. d00001 (null), d00002 (null), d00003 (null), d00004 (null))",
        "  links: src must name a domain in domains — 8 rows fail (e.g. x0, x1, x2, x3, x4)",
        "  entities: entity_id must be unique — 2 rows fail (e.g. e1, e1)",
    ]
    assert info.value.report["links"]["src must name a domain in domains"]["unexpected_count"] == 8


def test_null_id_is_named_by_row_and_missing_column_by_name() -> None:
    tables = with_row(base_tables(), "corpus", title="t", text="no id")
    tables["queries"] = tables["queries"].drop("split")
    message = failure(tables)
    assert "corpus: doc_id must not be null — 1 rows fail (e.g. row 4)" in message
    assert "queries: column split must exist — observed columns query_id, text, freq" in message


def test_rules_skip_absent_optional_columns_and_tables() -> None:
    tables = base_tables()
    assert "freq must be at least 1 where present" in [r.name for r in rules_for("queries", tables)]
    no_freq = tables | {"queries": tables["queries"].drop("freq")}
    assert "freq must be at least 1 where present" not in [
        r.name for r in rules_for("queries", no_freq)
    ]
    alone = {"qrels": tables["qrels"]}
    assert not any("must name" in r.name for r in rules_for("qrels", alone))


def test_cross_table_value_set_holds_only_referenced_ids() -> None:
    tables = base_tables()
    (rule,) = [r for r in rules_for("qrels", tables) if r.name.startswith("doc_id must name")]
    assert rule.kwargs["value_set"] == ["d00001", "d00002", "d00003", "d00004"]
    tables["qrels"] = tables["qrels"].filter(pl.col("doc_id") != "d00001")
    (rule,) = [r for r in rules_for("qrels", tables) if r.name.startswith("doc_id must name")]
    assert rule.kwargs["value_set"] == ["d00002", "d00003", "d00004"]


def test_importing_the_package_does_not_import_great_expectations() -> None:
    code = "import sys, trustir.validate; assert 'great_expectations' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
