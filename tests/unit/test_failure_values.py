"""Failures that used to become values (issue 12 part 3): each is now an error, or a note."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import polars as pl
import pytest

from trustir.evaluate.measures import evaluate_run
from trustir.llm.ledger import Ledger, read_ledger

RUN = pl.DataFrame({"query_id": ["q1"], "doc_id": ["d1"], "score": [1.0], "rank": [1]})


def test_a_mean_over_no_judged_query_is_an_error_not_zero():
    unjudged = pl.DataFrame({"query_id": ["q1"], "doc_id": ["d1"], "relevance": [0]})
    with pytest.raises(ValueError, match=r"judge no query relevant .* nDCG@10 are undefined"):
        evaluate_run(RUN, unjudged, ["nDCG@10"], min_rel=1)
    judged = unjudged.with_columns(pl.lit(1).alias("relevance"))
    agg, _ = evaluate_run(RUN, judged, ["nDCG@10"], min_rel=1)
    assert agg == {"nDCG@10": 1.0}


def test_a_torn_ledger_line_is_skipped_with_a_warning(tmp_path: Path, caplog):
    path = tmp_path / "ledger.jsonl"
    Ledger(run="a", calls=1).append(path)
    with path.open("a") as fh:
        fh.write('{"run": "torn')  # killed mid-line; the next append shares the line
    Ledger(run="b", calls=2).append(path)
    Ledger(run="c", calls=3).append(path)
    with caplog.at_level(logging.WARNING, logger="trustir.llm.ledger"):
        runs = read_ledger(path)
    assert [r["run"] for r in runs] == ["a", "c"]
    assert f"{path}:2: a torn ledger line is skipped" in caplog.text


def test_an_unreadable_table_layout_is_named_in_the_metrics_artifact(tmp_path: Path):
    from flows.pipeline import metrics_markdown, plain_table

    (tmp_path / "metrics").mkdir()
    (tmp_path / "data/x").mkdir(parents=True)
    (tmp_path / "metrics/x.json").write_text(json.dumps({"run1": {"nDCG@10": 0.5}}))
    (tmp_path / "data/x/x.table.json").write_text('{"title": "X"}')  # no rows: unreadable
    md = metrics_markdown(tmp_path)
    note, table = md.split("\n\n", 1)
    assert note == "_layout data/x/x.table.json unreadable (KeyError: 'rows'); plain table:_"
    assert table == plain_table("x", {"run1": {"nDCG@10": 0.5}})
