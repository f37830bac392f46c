"""What each bench's judges are asked about (P1): items stratified by level, easy and hard pairs,
and lists of k items.

Choices are seeded sha256 orders (``stable_order``), so raising ``items`` keeps the items a smaller
sample held and their labels stay cache hits. Pairs: "easy" = level gap >= ``easy_gap``, "hard" =
gap in 1..``hard_gap``; half of each (as available); shown in a seeded order (which item comes
first is random). Lists: the sampled items in a seeded order, cut into lists of at most k items
whose sizes differ by at most one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import combinations

import polars as pl

from trustir.authority.levels import quantile_levels
from trustir.authority.sources import Population
from trustir.sources.subset import stable_order

ITEMS = {
    "bench": pl.String,
    "item_id": pl.String,
    "name": pl.String,
    "authority": pl.Float64,
    "level": pl.Int64,
    "text": pl.String,
}
PAIRS = {
    "bench": pl.String,
    "pair_id": pl.String,
    "a": pl.String,
    "b": pl.String,
    "kind": pl.String,
    "gap": pl.Int64,
    "winner": pl.String,
}
LISTS = {"bench": pl.String, "list_id": pl.String, "position": pl.Int64, "item_id": pl.String}


@dataclass(frozen=True)
class BenchSample:
    """One bench's items (with level), pairs and lists; ``text_label`` None = no page text."""

    bench: str
    kind: str
    text_label: str | None
    items: pl.DataFrame  # ITEMS
    pairs: pl.DataFrame  # PAIRS
    lists: pl.DataFrame  # LISTS


def with_levels(pop: Population, n_levels: int) -> pl.DataFrame:
    """The population's items with their level 1..n_levels (over the whole population)."""
    levels = quantile_levels(pop.items["authority"].to_numpy(), n_levels)
    return pop.items.with_columns(pl.Series("level", levels, dtype=pl.Int64))


def sample_items(items: pl.DataFrame, n: int, seed: int) -> pl.DataFrame:
    """``n`` items spread evenly over the levels: level by level in turn, each level's items in
    a seeded order (a level that runs out is skipped)."""
    by_level = {
        lvl: stable_order(g["item_id"].to_list(), seed)
        for (lvl,), g in items.group_by(["level"], maintain_order=True)
    }
    order = sorted(by_level)
    chosen: list[str] = []
    depth = 0
    while len(chosen) < min(n, items.height):
        for lvl in order:
            if depth < len(by_level[lvl]) and len(chosen) < n:
                chosen.append(by_level[lvl][depth])
        depth += 1
    keep = pl.DataFrame({"item_id": chosen, "_order": range(len(chosen))})
    return items.join(keep, on="item_id").sort("_order").drop("_order")


def _flip(pair: tuple[str, str], seed: int) -> bool:
    return hashlib.sha256(f"{seed}:flip:{pair[0]}|{pair[1]}".encode()).digest()[0] % 2 == 1


def sample_pairs(
    items: pl.DataFrame, n_pairs: int, easy_gap: int, hard_gap: int, seed: int
) -> pl.DataFrame:
    """Up to ``n_pairs`` pairs of sampled items: half easy (level gap >= easy_gap), half hard
    (gap 1..hard_gap); the truly more authoritative item is the ``winner``."""
    if not 1 <= hard_gap < easy_gap:
        raise ValueError(f"need 1 <= hard_gap < easy_gap, got hard {hard_gap}, easy {easy_gap}")
    level = dict(zip(items["item_id"], items["level"], strict=True))
    auth = dict(zip(items["item_id"], items["authority"], strict=True))
    pools: dict[str, list[tuple[str, str]]] = {"easy": [], "hard": []}
    for a, b in combinations(sorted(level), 2):
        gap = abs(level[a] - level[b])
        if gap >= easy_gap:
            pools["easy"].append((a, b))
        elif 1 <= gap <= hard_gap:
            pools["hard"].append((a, b))
    want = {"easy": n_pairs // 2, "hard": n_pairs - n_pairs // 2}
    rows = []
    for kind in ("easy", "hard"):
        ids = {f"{a}|{b}": (a, b) for a, b in pools[kind]}
        for pid in stable_order(ids, seed)[: want[kind]]:
            a, b = ids[pid]
            if _flip((a, b), seed):
                a, b = b, a
            winner = a if auth[a] > auth[b] else b
            rows.append((pid, a, b, kind, abs(level[a] - level[b]), winner))
    df = pl.DataFrame(rows, schema=[c for c in PAIRS if c != "bench"], orient="row")
    return df.select([pl.col(c).cast(t) for c, t in PAIRS.items() if c != "bench"])


def make_lists(items: pl.DataFrame, k: int, seed: int) -> pl.DataFrame:
    """The items in a seeded order, dealt into ceil(n/k) lists (sizes differ by at most 1)."""
    if k < 2:
        raise ValueError(f"list size must be at least 2, got {k}")
    ids = stable_order(items["item_id"].to_list(), seed + 1)
    n_lists = max(1, -(-len(ids) // k))
    rows = []
    for li in range(n_lists):
        members = ids[li::n_lists]
        rows += [(f"L{li + 1:03d}", pos + 1, i) for pos, i in enumerate(members)]
    return pl.DataFrame(rows, schema=[c for c in LISTS if c != "bench"], orient="row")


def sample_bench(
    pop: Population,
    n_levels: int,
    n_items: int,
    n_pairs: int,
    easy_gap: int,
    hard_gap: int,
    list_size: int,
    seed: int,
) -> BenchSample:
    """Items, pairs and lists of one bench (levels over the whole population)."""
    items = sample_items(with_levels(pop, n_levels), n_items, seed)
    pairs = sample_pairs(items, n_pairs, easy_gap, hard_gap, seed)
    lists = make_lists(items, list_size, seed)
    tag = pl.lit(pop.name).alias("bench")
    return BenchSample(
        bench=pop.name,
        kind=pop.kind,
        text_label=pop.text_label,
        items=items.with_columns(tag).select(list(ITEMS)),
        pairs=pairs.with_columns(tag).select(list(PAIRS)),
        lists=lists.with_columns(tag).select(list(LISTS)),
    )
