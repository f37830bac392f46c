"""P1 ground truth: PageRank against networkx (dangling nodes too), quantile levels by hand, the
benches (world and real lists), and the sampling of items, pairs and lists."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import polars as pl
import pytest

from trustir.authority.levels import quantile_levels, rescale
from trustir.authority.pagerank import PageRankError, pagerank, pagerank_table
from trustir.authority.params import AuthorityParams
from trustir.authority.sample import make_lists, sample_bench, sample_items, sample_pairs
from trustir.authority.sources import (
    BENCHES,
    BenchContext,
    Population,
    clip_text,
    load_population,
    render_facts,
)
from trustir.sources.world import Sizes, build_world
from trustir.sources.world.entities import quantile_levels as world_levels
from trustir.sources.world.web import pagerank as world_pagerank

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def nx_pagerank(n: int, edges: list[tuple[int, int]], damping: float = 0.85) -> np.ndarray:
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    pr = nx.pagerank(g, alpha=damping, tol=1e-13, max_iter=10_000)
    return np.array([pr[i] for i in range(n)])


# -- PageRank -----------------------------------------------------------------------------------
def test_pagerank_by_hand_with_a_dangling_node():
    # a -> b, b dangling: x_a = (1-d)/2 + d*x_b/2 and x_a + x_b = 1  =>  x_a = 0.5 / (1 + d/2)
    x = pagerank(2, [0], [1], damping=0.85)
    assert x[0] == pytest.approx(0.5 / 1.425, abs=1e-12)
    assert x[1] == pytest.approx(1 - 0.5 / 1.425, abs=1e-12)
    assert pagerank(2, [0, 1], [1, 0]).tolist() == pytest.approx([0.5, 0.5], abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_pagerank_equals_networkx_with_dangling_nodes_loops_and_repeats(seed):
    rng = np.random.default_rng(seed)
    n = 60
    edges = [(int(a), int(b)) for a, b in rng.integers(0, n, size=(150, 2))]
    edges += edges[:10]  # repeated edges count once (networkx's DiGraph keeps one)
    edges += [(5, 5), (7, 7)]  # self-loops are ordinary edges
    src = [a for a, _ in edges]
    dangling = set(range(n)) - set(src)
    assert len(dangling) >= 5  # the case under test
    for d in (0.85, 0.5):
        ours = pagerank(n, src, [b for _, b in edges], damping=d, tol=1e-13)
        np.testing.assert_allclose(ours, nx_pagerank(n, edges, d), atol=1e-8, rtol=0)
        assert ours.sum() == pytest.approx(1.0, abs=1e-12)


def test_pagerank_of_an_edgeless_graph_is_uniform_and_errors_are_named():
    assert pagerank(4, [], []).tolist() == pytest.approx([0.25] * 4)
    assert pagerank(0, [], []).size == 0
    with pytest.raises(PageRankError, match="did not converge in 1 iterations"):
        pagerank(3, [0, 1], [1, 2], max_iter=1)
    with pytest.raises(ValueError, match="edge endpoints must lie in 0..2"):
        pagerank(3, [0], [3])
    with pytest.raises(ValueError, match="damping"):
        pagerank(3, [0], [1], damping=1.0)


def test_pagerank_table_matches_the_world_generator():
    world = build_world(Sizes.at(0.5), seed=5)
    names = world.web.domains["domain"].to_list()
    ours = pagerank_table(world.web.links, names)
    joined = ours.join(world.web.domains, left_on="node", right_on="domain")
    assert joined.height == len(names)
    np.testing.assert_allclose(joined["pagerank"], joined["pagerank_right"], atol=1e-12)
    # and against the world's own function and networkx on the same graph
    idx = {n: i for i, n in enumerate(sorted(names))}
    edges = [(idx[s], idx[d]) for s, d in world.web.links.iter_rows()]
    ref = world_pagerank(len(idx), np.array([a for a, _ in edges]), np.array([b for _, b in edges]))
    np.testing.assert_allclose(ours.sort("node")["pagerank"], ref, atol=1e-12)
    np.testing.assert_allclose(ref, nx_pagerank(len(idx), edges), atol=1e-8)


# -- levels -------------------------------------------------------------------------------------
def test_quantile_levels_by_hand():
    assert quantile_levels([10, 50, 20, 40, 30], 5).tolist() == [1, 5, 2, 4, 3]
    # 20 distinct values on a 10-point scale: two per level
    assert quantile_levels(np.arange(20.0), 10).tolist() == [1 + i // 2 for i in range(20)]
    # ties share the level of their block: sorted [1, 5, 5, 9] -> 5 has 1 value below it
    assert quantile_levels([5, 5, 1, 9], 4).tolist() == [2, 2, 1, 4]
    assert quantile_levels([1, 1, 1, 2], 2).tolist() == [1, 1, 1, 2]
    assert rescale(3.0, 5, 10) == pytest.approx(5.5)


def test_quantile_levels_equal_the_worlds_on_distinct_values_and_reject_nan():
    v = np.random.default_rng(0).random(137)
    for levels in (5, 10):
        assert quantile_levels(v, levels).tolist() == world_levels(v, levels).tolist()
    with pytest.raises(ValueError, match="NaN"):
        quantile_levels([1.0, float("nan")])


# -- benches ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ctx() -> BenchContext:
    world = build_world(Sizes.at(0.3), seed=13)
    shared = SHARED if SHARED.is_dir() else None
    return BenchContext(world=lambda: world, shared=shared, text_chars=120)


def test_bench_names_match_the_registry():
    builtin = ["mace", "majestic", "moz", "popqa", "tranco", "world-domains", "world-entities"]
    assert BENCHES.names() == builtin


def test_world_benches(ctx):
    dom = load_population("world-domains", ctx)
    assert dom.kind == "domain" and dom.text_label == "pages"
    assert dom.items["authority"].sum() == pytest.approx(1.0)  # PageRank is a distribution
    assert dom.items["text"].str.len_chars().max() <= 120
    ent = load_population("world-entities", ctx)
    assert (
        ent.kind == "entity"
        and ent.items["name"].str.contains(r"\((person|city|company|book)\)").all()
    )
    row = ent.items.row(0, named=True)
    assert row["text"].startswith("a ") and ":" in row["text"]


def test_real_benches_load_without_leaks(ctx):
    if ctx.shared is None:
        pytest.skip(f"the lab's shared data folder {SHARED} is absent (tests read it only)")
    sizes = {}
    for name in ("tranco", "majestic", "moz", "mace", "popqa"):
        pop = load_population(name, ctx)
        assert pop.items["item_id"].is_unique().all()
        sizes[name] = pop.items.height
        assert (pop.text_label is None) == (name != "mace")
    assert sizes["tranco"] == 10_000 and sizes["moz"] == 500 and sizes["mace"] == 1476
    tranco = load_population("tranco", ctx).items
    assert tranco.filter(pl.col("item_id") == "google.com")["authority"].item() == -1.0
    moz = load_population("moz", ctx).items
    assert moz["authority"].n_unique() == 500  # DA ties broken by linking root domains
    mace = load_population("mace", ctx).items["text"]
    assert not mace.str.contains(r"\bQ\d+\b|views").any()  # ids and views would leak


def test_render_facts_drops_ids_and_views_and_real_benches_need_the_folder():
    facts = {
        "qid": "Q1",
        "label": "Alster",
        "countries": [{"qid": "Q183", "label": "Germany", "view_12m": 5}],
        "years": {"2013": [["Justin Welby", "Q26419", "United Kingdom", "Q145"]]},
        "views_12m": 12464,
    }
    assert render_facts(facts) == ("countries: Germany; years: 2013: Justin Welby United Kingdom")
    assert clip_text("one two three four", 12) == "one two…"
    with pytest.raises(FileNotFoundError, match="shared data folder"):
        load_population("tranco", BenchContext())


# -- sampling -----------------------------------------------------------------------------------
def toy_population(n: int = 40) -> Population:
    items = pl.DataFrame(
        {
            "item_id": [f"i{k:02d}" for k in range(n)],
            "name": [f"item {k}" for k in range(n)],
            "authority": [float(k) for k in range(n)],
            "text": [None] * n,
        },
        schema={
            "item_id": pl.String,
            "name": pl.String,
            "authority": pl.Float64,
            "text": pl.String,
        },
    )
    return Population("toy", "domain", items, None, "its index")


def test_items_are_stratified_and_grow_by_inclusion():
    s = sample_bench(toy_population(), 5, 10, 8, 3, 1, 4, seed=1)
    assert s.items["level"].value_counts()["count"].to_list() == [2] * 5
    small = set(sample_items(s.items.drop("bench"), 5, 1)["item_id"])
    from trustir.authority.sample import with_levels

    full = with_levels(toy_population(), 5)
    assert set(sample_items(full, 5, 1)["item_id"]) <= set(sample_items(full, 12, 1)["item_id"])
    assert len(small) == 5


def test_pairs_easy_hard_and_winner():
    s = sample_bench(toy_population(), 5, 10, 8, 3, 1, 4, seed=1)
    pairs = s.pairs
    assert pairs["kind"].value_counts().sort("kind")["count"].to_list() == [4, 4]
    auth = dict(zip(s.items["item_id"], s.items["authority"], strict=True))
    for a, b, kind, gap, winner in pairs.select("a", "b", "kind", "gap", "winner").iter_rows():
        assert (gap >= 3) if kind == "easy" else (gap == 1)
        assert winner == (a if auth[a] > auth[b] else b)
    assert 0 < (pairs["winner"] == pairs["a"]).sum() < pairs.height  # either side comes first
    with pytest.raises(ValueError, match="hard_gap < easy_gap"):
        sample_pairs(s.items, 4, 2, 2, 0)


def test_lists_partition_the_items_with_even_sizes():
    items = sample_items(toy_population().items.with_columns(pl.lit(1).alias("level")), 11, 0)
    lists = make_lists(items, 4, seed=0)
    sizes = lists.group_by("list_id").len()["len"].sort().to_list()
    assert sizes == [3, 4, 4] and sorted(lists["item_id"]) == sorted(items["item_id"])


def test_params_validate_names_and_gaps():
    assert AuthorityParams().levels == 5
    with pytest.raises(ValueError, match="benches: unknown authority bench 'wiki'; known: mace"):
        AuthorityParams(benches=["wiki"])
    with pytest.raises(ValueError, match="hard_gap"):
        AuthorityParams.model_validate({"sample": {"easy_gap": 2, "hard_gap": 2}})
    with pytest.raises(ValueError, match="keep"):
        AuthorityParams.model_validate({"ragauth": {"keep": 4, "top_k": 4}})
