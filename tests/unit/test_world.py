"""The mini-world generator: determinism, stream isolation, contracts, truth and difficulty."""

from __future__ import annotations

import io
import re

import networkx as nx
import numpy as np
import polars as pl
import pytest

from trustir.schema import TABLES, conform
from trustir.sources.world import Sizes, World, build_world, generate_world
from trustir.sources.world.streams import FACETS, facet_rng
from trustir.sources.world.web import pagerank

NAMES = ("corpus", "queries", "qrels", "domains", "links", "entities")


def parquet_bytes(df: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.write_parquet(buf, compression="zstd")
    return buf.getvalue()


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(Sizes.at(1.0), seed=13, test_fraction=0.3)


@pytest.fixture(scope="module")
def tables(world: World) -> dict[str, pl.DataFrame]:
    return world.tables()


@pytest.fixture(scope="module")
def world_qrels(tables) -> pl.DataFrame:
    return tables["qrels"].filter(pl.col("source") == "world")


# --- determinism -----------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_parquet(tables):
    again = generate_world(scale=1.0, seed=13, test_fraction=0.3)
    assert set(again) == set(NAMES)
    for name in NAMES:
        assert parquet_bytes(again[name]) == parquet_bytes(tables[name]), name


def test_different_seed_gives_a_different_world():
    a = generate_world(scale=0.2, seed=13)
    b = generate_world(scale=0.2, seed=14)
    assert parquet_bytes(a["corpus"]) != parquet_bytes(b["corpus"])
    assert parquet_bytes(a["entities"]) != parquet_bytes(b["entities"])


def test_more_queries_leave_the_other_facets_unchanged():
    base = generate_world(scale=0.3, seed=5)
    more = generate_world(scale=0.3, seed=5, query_scale=1.6)
    assert more["queries"].height > base["queries"].height
    for name in ("corpus", "entities", "domains", "links"):
        assert parquet_bytes(more[name]) == parquet_bytes(base[name]), name
    # the first queries are kept as they were (ids, texts, splits, freqs and their qrels)
    head = more["queries"].head(base["queries"].height)
    assert head.equals(base["queries"])
    kept = more["qrels"].join(base["queries"].select("query_id"), on="query_id", how="semi")
    world_only = pl.col("source") == "world"
    assert kept.filter(world_only).equals(base["qrels"].filter(world_only))


def test_facet_streams_sit_at_fixed_positions():
    # a facet's stream is the child at its fixed index, whatever the number of children spawned
    expected = np.random.Generator(np.random.PCG64(np.random.SeedSequence(7).spawn(1)[0]))
    assert facet_rng(7, "entities").random(5).tolist() == expected.random(5).tolist()
    assert list(FACETS.values()) == list(range(len(FACETS)))
    assert facet_rng(7, "web").random() != facet_rng(7, "pages").random()
    with pytest.raises(KeyError, match="unknown world facet"):
        facet_rng(7, "nope")


# --- contracts -------------------------------------------------------------------------------


def test_tables_conform_to_the_schema(tables):
    for name in NAMES:
        df = tables[name]
        assert dict(df.schema) == TABLES[name], name
        assert conform(df, name).equals(df), name
        assert df.height > 0, name


def test_sizes_of_the_default_world(tables):
    assert 2000 <= tables["corpus"].height <= 3000
    assert 250 <= tables["entities"].height <= 350
    assert 100 <= tables["domains"].height <= 200
    assert 400 <= tables["queries"].height <= 600


def test_ids_are_unique_and_zero_padded(tables):
    for name, col, pattern in (
        ("corpus", "doc_id", r"d\d{5}"),
        ("queries", "query_id", r"q\d{4}"),
        ("entities", "entity_id", r"e\d{4}"),
    ):
        ids = tables[name][col]
        assert ids.n_unique() == len(ids), name
        assert all(re.fullmatch(pattern, i) for i in ids.to_list()), name
    assert tables["domains"]["domain"].n_unique() == tables["domains"].height
    assert tables["entities"]["name"].n_unique() == tables["entities"].height
    links = tables["links"]
    assert links.unique().height == links.height
    assert (links["src"] != links["dst"]).all()


def test_references_resolve(tables):
    qrels, corpus = tables["qrels"], tables["corpus"]
    assert qrels["query_id"].is_in(tables["queries"]["query_id"].implode()).all()
    assert qrels["doc_id"].is_in(corpus["doc_id"].implode()).all()
    domains = tables["domains"]["domain"].implode()
    assert corpus["domain"].is_in(domains).all()
    assert tables["links"]["src"].is_in(domains).all()
    assert tables["links"]["dst"].is_in(domains).all()
    assert qrels.select("query_id", "doc_id", "source").is_duplicated().sum() == 0
    assert all(u.startswith(f"https://{d}/") for d, u in corpus.select("domain", "url").rows())


def test_grades_and_positives(tables, world_qrels):
    assert tables["qrels"]["relevance"].is_between(0, 3).all()
    assert set(tables["qrels"]["source"].unique()) == {"world", "human"}
    queries = tables["queries"]["query_id"]
    # qrels for all queries; every query has a correct document
    assert set(world_qrels["query_id"]) == set(queries)
    pos = world_qrels.filter(pl.col("relevance") == 3).group_by("query_id").len()
    assert pos.height == len(queries)
    assert pos["len"].mean() > 1.5
    grades = set(world_qrels["relevance"].unique())
    assert grades == {1, 2, 3}


def test_human_labels_one_positive_per_train_query(tables, world_qrels):
    queries = tables["queries"]
    human = tables["qrels"].filter(pl.col("source") == "human")
    train = queries.filter(pl.col("split") == "train")["query_id"]
    assert sorted(human["query_id"].to_list()) == sorted(train.to_list())
    assert (human["relevance"] == 3).all()
    test_ids = queries.filter(pl.col("split") == "test")["query_id"].implode()
    assert not human["query_id"].is_in(test_ids).any()
    # each human positive is a correct document in the world's ground truth
    joined = human.join(world_qrels, on=["query_id", "doc_id"], how="left")
    assert (joined["relevance_right"] == 3).all()


def test_split_share_and_zipf_frequencies(tables):
    queries = tables["queries"]
    n_test = (queries["split"] == "test").sum()
    assert abs(n_test - 0.3 * queries.height) <= 1
    assert set(queries["split"].unique()) == {"train", "test"}
    freq = queries["freq"]
    assert freq.min() >= 1
    # heavy head: the most asked query is far more frequent than the median one
    assert freq.max() > 20 * freq.median()


def test_documents_are_short(tables):
    words = tables["corpus"]["text"].str.split(" ").list.len()
    assert 40 <= words.mean() <= 80
    assert words.max() <= 100


# --- ground truth ----------------------------------------------------------------------------


def test_wrong_facts_concentrate_on_low_authority_domains(tables, world_qrels):
    on_topic = world_qrels.filter(pl.col("relevance") >= 2)
    rates = (
        on_topic.join(tables["corpus"].select("doc_id", "domain"), on="doc_id")
        .join(tables["domains"], on="domain")
        .group_by("level")
        .agg((pl.col("relevance") == 2).mean().alias("wrong"))
        .sort("level")
    )
    wrong = dict(rates.select("level", "wrong").rows())
    assert wrong[1] > 2 * wrong[5]
    assert wrong[1] > wrong[3] > wrong[5]


def test_pagerank_matches_networkx(tables):
    domains, links = tables["domains"], tables["links"]
    assert domains["pagerank"].sum() == pytest.approx(1.0, abs=1e-12)
    graph = nx.DiGraph()
    graph.add_nodes_from(domains["domain"].to_list())
    graph.add_edges_from(links.rows())
    assert any(graph.out_degree(n) == 0 for n in graph)  # the dangling case is exercised
    ref = nx.pagerank(graph, alpha=0.85, tol=1e-12, max_iter=1000)
    ours = dict(domains.select("domain", "pagerank").rows())
    assert max(abs(ours[d] - ref[d]) for d in ref) < 1e-8
    # levels are pagerank quantiles: every domain of a level outranks every one below it
    bounds = (
        domains.group_by("level")
        .agg(pl.col("pagerank").min().alias("lo"), pl.col("pagerank").max().alias("hi"))
        .sort("level")
    )
    assert bounds["level"].to_list() == [1, 2, 3, 4, 5]
    assert (bounds["lo"][1:].to_numpy() >= bounds["hi"][:-1].to_numpy()).all()


def test_pagerank_hand_worked_graph():
    # 0 -> 1, 1 -> 0, 1 -> 2; node 2 dangles
    src, dst = np.array([0, 1, 1]), np.array([1, 0, 2])
    ours = pagerank(3, src, dst)
    graph = nx.DiGraph([(0, 1), (1, 0), (1, 2)])
    ref = nx.pagerank(graph, alpha=0.85, tol=1e-12, max_iter=1000)
    assert ours.tolist() == pytest.approx([ref[0], ref[1], ref[2]], abs=1e-10)
    # by hand: x0 = x2 = a (same in-links), x1 = 1 - 2a = 0.05 + 0.85 * (a + a / 3)
    # (node 2's rank is spread over all three) => a = 0.95 / (2 + 0.85 * 4 / 3) = 2.85 / 9.4
    a = 2.85 / 9.4
    assert ours.tolist() == pytest.approx([a, 1 - 2 * a, a], abs=1e-10)


def test_entities_have_zipf_popularity_and_levels(tables):
    ents = tables["entities"].sort("popularity", descending=True)
    pop = ents["popularity"].to_numpy()
    assert pop.sum() == pytest.approx(1.0)
    assert pop[0] / pop[1] == pytest.approx(2.0)  # Zipf exponent 1: rank 1 vs rank 2
    counts = ents.group_by("level").len().sort("level")
    assert counts["level"].to_list() == [1, 2, 3, 4, 5]
    assert counts["len"].min() >= ents.height // 5 - 1
    assert ents["level"][0] == 5 and ents["level"][-1] == 1


def test_popular_entities_have_more_documents(world, tables):
    docs = world.pages.mentions.group_by("entity_id").len()
    joined = tables["entities"].join(docs, on="entity_id", how="left").fill_null(0)
    mean_by_level = dict(joined.group_by("level").agg(pl.col("len").mean()).rows())
    assert mean_by_level[5] > 2 * mean_by_level[1]


def test_multi_answer_attributes(world):
    facts = world.entities.facts
    multi = [k for k, v in facts.items() if len(v) > 1]
    assert len(multi) > 100
    assert all(len(set(v)) == len(v) for v in facts.values())
    # a correct statement of a multi-answer fact states only valid values
    st = world.pages.statements
    for doc_id, eid, attr, correct, values in st.head(400).rows():
        valid = set(facts[(eid, attr)])
        assert correct == set(values).issubset(valid), (doc_id, attr)
    eid, attr = multi[0]
    assert len(world.entities.answers(eid, attr)) == len(facts[multi[0]])


def test_statements_and_grades_agree(world, world_qrels):
    asked = world.queries.facts
    graded = (
        asked.join(world.pages.statements, on=["entity_id", "attribute"])
        .join(world_qrels, on=["query_id", "doc_id"])
        .with_columns(pl.when(pl.col("correct")).then(3).otherwise(2).alias("expected"))
    )
    assert graded.height > 0
    assert (graded["relevance"] == graded["expected"]).all()
    # grade 1: the document names the entity but does not state the asked attribute
    ones = world_qrels.filter(pl.col("relevance") == 1).join(asked, on="query_id")
    named = ones.join(world.pages.mentions, on=["doc_id", "entity_id"], how="semi")
    assert named.height == ones.height


# --- difficulty ------------------------------------------------------------------------------

_TOKEN = re.compile(r"\b\w\w+\b")


def _content_words(text: str, stopwords: set[str]) -> set[str]:
    return set(_TOKEN.findall(text.lower())) - stopwords


def test_queries_paraphrase_the_documents(world, tables, world_qrels):
    from bm25s.stopwords import STOPWORDS_EN

    stop = set(STOPWORDS_EN)
    corpus = tables["corpus"]
    doc_words = {
        d: _content_words(f"{t} {x}", stop)
        for d, t, x in corpus.select("doc_id", "title", "text").rows()
    }
    q_words = {
        q: _content_words(t, stop) for q, t in tables["queries"].select("query_id", "text").rows()
    }
    ents = world.entities.by_id()
    name_words = {
        q: _content_words(ents[e].name, stop)
        for q, e in world.queries.facts.select("query_id", "entity_id").rows()
    }
    shared, shared_non_name = [], []
    positives = world_qrels.filter(pl.col("relevance") == 3).select("query_id", "doc_id")
    for q, d in positives.rows():
        shared.append(len(q_words[q] & doc_words[d]) / len(q_words[q]))
        rest = q_words[q] - name_words[q]
        if rest:
            shared_non_name.append(len(rest & doc_words[d]) / len(rest))
    # names match, the rest of the question mostly does not: lexical matching is imperfect
    assert np.mean(shared) < 0.6
    assert 0.01 < np.mean(shared_non_name) < 0.3


def test_bm25_ndcg_is_in_the_target_band(tables, world_qrels):
    import bm25s
    import ir_measures

    corpus = tables["corpus"]
    test = tables["queries"].filter(pl.col("split") == "test")
    texts = [f"{t} {x}" for t, x in corpus.select("title", "text").rows()]
    retriever = bm25s.BM25(k1=0.9, b=0.4)
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    q_tokens = bm25s.tokenize(test["text"].to_list(), stopwords="en", show_progress=False)
    idx, scores = retriever.retrieve(q_tokens, k=100, show_progress=False, n_threads=1)
    doc_ids = corpus["doc_id"].to_list()
    run = [
        ir_measures.ScoredDoc(qid, doc_ids[i], float(s))
        for qid, row_i, row_s in zip(test["query_id"].to_list(), idx, scores, strict=True)
        for i, s in zip(row_i.tolist(), row_s.tolist(), strict=True)
        if s > 0
    ]
    qrels = [
        ir_measures.Qrel(q, d, r)
        for q, d, r in world_qrels.join(test, on="query_id", how="semi")
        .select("query_id", "doc_id", "relevance")
        .rows()
    ]
    ndcg = ir_measures.calc_aggregate([ir_measures.nDCG @ 10], qrels, run)[ir_measures.nDCG @ 10]
    assert 0.3 <= ndcg <= 0.8, ndcg


# --- scale -----------------------------------------------------------------------------------


def test_sizes_scale_with_one_multiplier():
    assert Sizes.at(2.0).docs == 2 * Sizes.at(1.0).docs
    assert Sizes.at(1.0, query_scale=2.0).queries == 2 * Sizes.at(1.0).queries
    assert Sizes.at(1.0, query_scale=2.0).docs == Sizes.at(1.0).docs
    with pytest.raises(ValueError):
        Sizes.at(0.0)


def test_a_tiny_world_is_well_formed():
    tiny = generate_world(scale=0.02, seed=3, test_fraction=0.5)
    for name in NAMES:
        assert dict(tiny[name].schema) == TABLES[name]
    queries = tiny["queries"]
    assert {"train", "test"} <= set(queries["split"])
    pos = tiny["qrels"].filter((pl.col("source") == "world") & (pl.col("relevance") == 3))
    assert set(pos["query_id"]) == set(queries["query_id"])
    assert tiny["domains"]["level"].n_unique() == 5
