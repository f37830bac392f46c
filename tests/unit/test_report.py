"""The report API: metrics JSON layout, Markdown (best per column), round trip, PNG plot."""

import json

import polars as pl

from trustir.report import Provenance, Table, load_table
from trustir.report.provenance import lock_hashes


def make_table():
    return Table(
        name="toy",
        title="Toy table",
        cells={"bm25": {"nDCG@10": 0.5, "ece": 0.2}, "dense": {"nDCG@10": 0.6, "ece": 0.3}},
        higher_is_better={"ece": False},
        per_query=pl.DataFrame(
            {
                "row": ["bm25", "dense"],
                "column": ["nDCG@10"] * 2,
                "query_id": ["q1", "q1"],
                "value": [0.5, 0.6],
            }
        ),
        provenance=Provenance(
            data={"data/fetch": "abc123def4567"}, params={"data.seed": 2}, revision="1234567"
        ),
    )


def test_markdown_bolds_the_best_cell_by_direction():
    md = make_table().to_markdown()
    # higher nDCG wins; one query behind each nDCG cell: its interval is the value itself
    assert "| dense | **0.6000** [0.600, 0.600] | 0.3000 |" in md
    assert "| bm25 | 0.5000 [0.500, 0.500] | **0.2000** |" in md  # lower ECE wins (no interval)
    assert "ece ↓" in md and "nDCG@10 ↑" in md
    assert "`data.seed=2`" in md and "abc123def4" in md and "1234567" in md


def test_save_and_load_round_trip(tmp_path):
    t = make_table()
    t.save(tmp_path / "metrics", tmp_path / "data")
    assert json.loads((tmp_path / "metrics/toy.json").read_text()) == t.cells
    back = load_table(tmp_path / "metrics", tmp_path / "data", "toy")
    assert back.cells == t.cells and back.higher_is_better == {"nDCG@10": True, "ece": False}
    assert back.per_query.equals(t.per_query.sort(["row", "column", "query_id"]))
    assert back.provenance == t.provenance
    assert back.to_markdown() == t.to_markdown()


def test_plot_writes_a_png(tmp_path):
    out = make_table().plot(tmp_path / "p.png")
    head = out.read_bytes()[:8]
    assert head == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000


def test_lock_hashes_reads_outs_of_named_stages(tmp_path):
    (tmp_path / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  fetch:\n    outs:\n    - path: data/fetch\n"
        "      md5: aa.dir\n  index:\n    outs:\n    - path: data/index\n      md5: bb.dir\n"
    )
    assert lock_hashes(tmp_path / "dvc.lock", ["fetch"]) == {"data/fetch": "aa.dir"}
