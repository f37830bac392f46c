"""The world's tasks facet (P5): five families with their own splits, consistent qrels and hard
negatives; seeded, independent per family, and leaving the world's tables untouched."""

from __future__ import annotations

import io

import polars as pl
import pytest

from trustir.multitask.data import read_tasks, task_eval_set, train_queries, write_task_sets
from trustir.sources.world import Sizes, build_world
from trustir.sources.world.tasks import FAMILIES, doc_entities, generate_tasks

N = 40


def parquet_bytes(df: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.write_parquet(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def world():
    return build_world(Sizes.at(0.15), seed=13)


@pytest.fixture(scope="module")
def tasks(world):
    return generate_tasks(world, 13, N, 0.3)


def test_every_family_is_a_well_formed_retrieval_problem(tasks):
    assert list(tasks) == list(FAMILIES) == ["qa", "dupq", "claim", "title", "etype"]
    for name, t in tasks.items():
        q, c, r, n = t.queries, t.corpus, t.qrels, t.negatives
        assert q["query_id"].n_unique() == q.height and c["doc_id"].n_unique() == c.height
        assert all(i.startswith(f"{name}:") for i in [*q["query_id"], *c["doc_id"]])
        assert set(q["split"]) == {"train", "test"}, name
        assert set(r["query_id"]) <= set(q["query_id"]) and set(r["doc_id"]) <= set(c["doc_id"])
        assert set(n["doc_id"]) <= set(c["doc_id"])
        assert r.filter(pl.col("relevance") >= t.positive_grade)["query_id"].n_unique() > 0
        # hard negatives are never positives of their query
        clash = n.join(r.filter(pl.col("relevance") >= t.positive_grade), on=["query_id", "doc_id"])
        assert clash.is_empty(), name
        if name != "qa":  # qa is the world's own query set
            assert q.height == N


def test_family_contents_match_the_world(world, tasks):
    about = doc_entities(world)
    by_id = world.entities.by_id()
    # etype: the label is the type of the entity the document is about
    doc_ids = world.pages.corpus["doc_id"].to_list()
    for qid, label in tasks["etype"].qrels.select("query_id", "doc_id").iter_rows():
        doc = doc_ids[int(qid.split(":q")[1]) - 1]  # etype:q00012 opens the 12th document
        assert label == f"etype:{by_id[about[doc]].etype}"
    # title: its own body is the grade-2 document; other bodies of its entity are grade 1
    t = tasks["title"]
    own = t.qrels.filter(pl.col("relevance") == 2)
    assert own.height == t.queries.height
    titles = dict(zip(world.pages.corpus["doc_id"], world.pages.corpus["title"], strict=True))
    for qid, doc in own.select("query_id", "doc_id").iter_rows():
        text = t.queries.filter(pl.col("query_id") == qid)["text"][0]
        assert titles[doc.split(":")[1]] == text
    # dupq: one positive, the canonical question of the same fact, worded differently
    d = tasks["dupq"]
    pairs = d.qrels.join(d.queries, on="query_id").join(d.corpus, on="doc_id", suffix="_doc")
    assert pairs.height == d.queries.height and (pairs["text"] != pairs["text_doc"]).all()
    # claim: grade 2 documents state the claimed value; every graded document states the fact
    names = {e.entity_id: e.name for e in world.entities.entities}
    c = tasks["claim"]
    texts = dict(c.queries.select("query_id", "text").iter_rows())
    stated = dict(world.pages.statements.group_by("doc_id").agg("values").iter_rows())
    for qid, doc, rel in c.qrels.select("query_id", "doc_id", "relevance").iter_rows():
        values = [names.get(v, v) for vals in stated[doc.split(":")[1]] for v in vals]
        if rel == 2:
            assert any(v in texts[qid] for v in values), (texts[qid], values)


def test_seeded_independent_families_and_an_unchanged_world(world, tasks):
    before = {k: parquet_bytes(v) for k, v in world.tables().items()}
    again = generate_tasks(world, 13, N, 0.3, families=["etype", "claim"])
    for name in ("etype", "claim"):  # the same bytes whatever else is generated
        for table, df in again[name].tables().items():
            assert parquet_bytes(df) == parquet_bytes(tasks[name].tables()[table]), (name, table)
    other = generate_tasks(world, 14, N, 0.3, families=["dupq"])
    assert parquet_bytes(other["dupq"].queries) != parquet_bytes(tasks["dupq"].queries)
    assert {k: parquet_bytes(v) for k, v in world.tables().items()} == before
    fresh = build_world(Sizes.at(0.15), seed=13).tables()
    assert {k: parquet_bytes(v) for k, v in fresh.items()} == before
    with pytest.raises(ValueError, match="unknown task families"):
        generate_tasks(world, 13, N, families=["nope"])


def test_tasks_on_disk_give_training_queries_and_eval_subsets(tasks, tmp_path):
    index = write_task_sets(tasks, tmp_path / "tasks")
    assert index["etype"]["documents"] == 4 and index["qa"]["positive_grade"] == 2
    read = read_tasks(tmp_path / "tasks", ["qa", "etype"])
    tq = train_queries(read["qa"], cap=5, seed=1)
    assert len(tq) == 5 and tq == train_queries(read["qa"], cap=5, seed=1)
    train_ids = set(read["qa"].queries.filter(pl.col("split") == "train")["query_id"])
    assert {q.query_id for q in tq} <= train_ids
    assert all(g >= 2 for q in tq for _, g in q.positives)
    assert [q.positives[0][1] for q in tq] == [max(g for _, g in q.positives) for q in tq]
    ev = task_eval_set(read["qa"], max_queries=4, max_docs=20, seed=1, pool_depth=2)
    assert ev.queries.height == 4 and set(ev.queries["split"]) == {"test"}
    assert set(ev.qrels["doc_id"]) <= set(ev.corpus["doc_id"])
    with pytest.raises(ValueError, match="task 'nope' is not in"):
        read_tasks(tmp_path / "tasks", ["nope"])
