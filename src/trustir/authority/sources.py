"""The benches of AuthorityBench (P1): items with a ground-truth authority value.

DomainAuth: the mini-world's domains (PageRank over its link graph, computed by
``authority.pagerank``; page text = the pages a domain hosts) and three real domain lists in
``../shared/data/web_authority_lists`` — Tranco ranks, Majestic Million referring subnets and Moz
Domain Authority. The real lists carry no link graph and no page text offline: their values are
rank-based proxies of link authority, judged from names only.
EntityAuth: the mini-world's entities (Zipf popularity; text = a description from their true
facts), MACE entities (12-month Wikipedia page views; text = their structured facts, with view
counts and Wikidata ids removed) and PopQA subjects and objects (monthly page views, s_pop/o_pop).

Each loader returns a ``Population``: item_id, name, authority (higher = more authoritative) and
text (null where the bench has none).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from trustir.authority.pagerank import pagerank_table
from trustir.registry import Registry

POPULATION = {"item_id": pl.String, "name": pl.String, "authority": pl.Float64, "text": pl.String}
#: JSON keys of the MACE facts that would leak the ground truth (views) or its proxies (ids).
LEAKY_KEYS = {"qid", "parent_qid", "views_12m", "view_12m"}
_QID = re.compile(r"^Q\d+$")


@dataclass(frozen=True)
class Population:
    """All items of one bench: ``items`` has item_id, name, authority, text."""

    name: str
    kind: str  # domain | entity (how prompts name the items)
    items: pl.DataFrame
    #: what the page text is called in prompts ("pages", "description", "facts"); None = no text.
    text_label: str | None
    #: one line for the report: where the authority value comes from.
    signal: str


@dataclass
class BenchContext:
    """What loaders read: the world (built on first use), the shared data folder, settings."""

    world: Callable[[], Any] | None = None
    shared: Path | None = None
    damping: float = 0.85
    tol: float = 1e-12
    max_iter: int = 1000
    text_chars: int = 160

    def world_obj(self) -> Any:
        if self.world is None:
            raise ValueError("world benches need the mini-world (no world given)")
        return self.world()

    def shared_file(self, rel: str) -> Path:
        if self.shared is None:
            raise FileNotFoundError(
                f"real benches read {rel} from the shared data folder: none set "
                "(authority.shared_data is null; profiles/lab.yaml names the lab's copy)"
            )
        path = self.shared / rel
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing (authority.shared_data = {self.shared})")
        return path


BENCHES: Registry[Callable[[BenchContext], Population]] = Registry("authority bench")


def population(name: str, kind: str, rows: dict[str, list], text_label, signal: str) -> Population:
    """A Population from column lists; duplicate ids and non-finite values are errors."""
    df = pl.DataFrame(rows, schema=POPULATION)
    dup = df.filter(pl.col("item_id").is_duplicated())["item_id"].unique().to_list()
    if dup:
        raise ValueError(f"bench {name!r}: repeated item ids {dup[:5]}")
    bad = df.filter(~pl.col("authority").is_finite())["item_id"].to_list()
    if bad:
        raise ValueError(f"bench {name!r}: items without a finite authority value: {bad[:5]}")
    return Population(name, kind, df.sort("item_id"), text_label, signal)


def clip_text(text: str, max_chars: int) -> str:
    """``text`` cut at a word boundary to at most ``max_chars`` characters ("…" when cut)."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:.") + "…"


# -- the mini-world ----------------------------------------------------------------------------
@BENCHES.register("world-domains")
def world_domains(ctx: BenchContext) -> Population:
    """The world's domains; authority = PageRank of the link graph; text = hosted pages."""
    world = ctx.world_obj()
    names = world.web.domains["domain"].to_list()
    pr = pagerank_table(world.web.links, names, ctx.damping, ctx.tol, ctx.max_iter)
    corpus = world.pages.corpus.sort("doc_id")
    pages: dict[str, list[str]] = {}
    for dom, title, text in corpus.select("domain", "title", "text").iter_rows():
        got = pages.setdefault(dom, [])
        if sum(len(p) for p in got) < ctx.text_chars:
            got.append(f"{title}: {text}")
    rank = dict(pr.iter_rows())
    return population(
        "world-domains",
        "domain",
        {
            "item_id": names,
            "name": names,
            "authority": [rank[n] for n in names],
            "text": [clip_text(" | ".join(pages.get(n, [])), ctx.text_chars) for n in names],
        },
        "pages",
        f"PageRank of the mini-world's link graph (damping {ctx.damping})",
    )


@BENCHES.register("world-entities")
def world_entities(ctx: BenchContext) -> Population:
    """The world's entities; authority = Zipf popularity; text = a description of true facts."""
    ents = ctx.world_obj().entities
    attrs: dict[str, list[str]] = {}
    for eid, attr in ents.facts:
        attrs.setdefault(eid, []).append(attr)
    rows: dict[str, list] = {"item_id": [], "name": [], "authority": [], "text": []}
    for e in ents.entities:
        facts = [
            f"{a.replace('_', ' ')}: {', '.join(ents.answers(e.entity_id, a))}"
            for a in attrs.get(e.entity_id, [])
        ]
        rows["item_id"].append(e.entity_id)
        rows["name"].append(f"{e.name} ({e.etype})")
        rows["authority"].append(e.popularity)
        rows["text"].append(clip_text(f"a {e.etype}. " + "; ".join(facts), ctx.text_chars))
    return population(
        "world-entities", "entity", rows, "description", "Zipf popularity of the mini-world"
    )


# -- real domain lists (no link graph, no page text offline) ------------------------------------
AUTHORITY_LISTS = "web_authority_lists"


@BENCHES.register("tranco")
def tranco(ctx: BenchContext) -> Population:
    """Tranco top 10k; authority = minus the rank (a rank-based proxy)."""
    df = pl.read_csv(
        ctx.shared_file(f"{AUTHORITY_LISTS}/tranco_top10k.csv"),
        has_header=False,
        new_columns=["rank", "domain"],
        schema_overrides={"rank": pl.Int64, "domain": pl.String},
    )
    df = df.with_columns(pl.col("domain").str.strip_chars())
    doms = df["domain"].to_list()
    return population(
        "tranco",
        "domain",
        {
            "item_id": doms,
            "name": doms,
            "authority": (-df["rank"].cast(pl.Float64)).to_list(),
            "text": [None] * len(doms),
        },
        None,
        "Tranco top-10k rank (rank-based proxy; no link graph, no page text)",
    )


@BENCHES.register("majestic")
def majestic(ctx: BenchContext) -> Population:
    """Majestic Million (first 15k, TLD rows dropped); authority = referring subnets."""
    df = pl.read_csv(ctx.shared_file(f"{AUTHORITY_LISTS}/majestic_million_top15000.csv"))
    # rows such as ".com" are whole TLDs, not domains (one of them even appears twice)
    df = df.filter(~pl.col("Domain").str.starts_with(".")).unique("Domain", keep="first")
    df = df.sort("GlobalRank")
    doms = df["Domain"].to_list()
    return population(
        "majestic",
        "domain",
        {
            "item_id": doms,
            "name": doms,
            "authority": df["RefSubNets"].cast(pl.Float64).to_list(),
            "text": [None] * len(doms),
        },
        None,
        "Majestic referring subnets (link-based proxy; no page text)",
    )


@BENCHES.register("moz")
def moz(ctx: BenchContext) -> Population:
    """Moz top 500; authority = Domain Authority, ties broken by linking root domains."""
    df = pl.read_csv(ctx.shared_file(f"{AUTHORITY_LISTS}/moz_top500_domains.csv"))
    lrd = df["Linking Root Domains"].cast(pl.String).str.replace_all(",", "").cast(pl.Float64)
    da = df["Domain Authority"].cast(pl.Float64)
    doms = df["Root Domain"].to_list()
    return population(
        "moz",
        "domain",
        {
            "item_id": doms,
            "name": doms,
            "authority": (da + lrd / (lrd.max() + 1.0)).to_list(),  # DA first, then links
            "text": [None] * len(doms),
        },
        None,
        "Moz Domain Authority, ties by linking root domains (proxy; no page text)",
    )


# -- real entities ------------------------------------------------------------------------------
def render_facts(obj: Any, top: bool = True) -> str:
    """Structured facts as plain text, without Wikidata ids or page-view counts (they would
    leak the ground truth or a proxy of it); the top-level label (the name) is not repeated."""
    if isinstance(obj, dict):
        parts = []
        for k, v in obj.items():
            if k in LEAKY_KEYS or (top and k == "label"):
                continue
            txt = render_facts(v, top=False)
            if txt:
                parts.append(txt if k == "label" else f"{k}: {txt}")
        return "; ".join(parts)
    if isinstance(obj, list):
        sep = " " if obj and all(not isinstance(x, dict | list) for x in obj) else ", "
        return sep.join(t for t in (render_facts(x, top=False) for x in obj) if t)
    if obj is None or (isinstance(obj, str) and (not obj.strip() or _QID.match(obj))):
        return ""
    return str(obj)


MACE_FACTS = "mace_multi_answer/entity_facts_example"


@BENCHES.register("mace")
def mace(ctx: BenchContext) -> Population:
    """MACE entities; authority = 12-month Wikipedia page views; text = their facts."""
    if ctx.shared is None:
        raise FileNotFoundError(
            f"the mace bench reads {MACE_FACTS}: no shared data folder set "
            "(authority.shared_data is null; profiles/lab.yaml names the lab's copy)"
        )
    folder = ctx.shared / MACE_FACTS
    files = sorted(folder.glob("*_structured_facts.json"))
    if not files:
        raise FileNotFoundError(f"{folder} holds no *_structured_facts.json")
    rows: dict[str, list] = {"item_id": [], "name": [], "authority": [], "text": []}
    for f in files:
        category = f.name.removesuffix("_structured_facts.json")
        for label, facts in json.loads(f.read_text()).items():
            views = facts.get("views_12m")
            if views is None:
                raise ValueError(f"{f}: entity {label!r} has no views_12m")
            rows["item_id"].append(f"{category}:{facts.get('qid', label)}")
            rows["name"].append(f"{label} ({category})")
            rows["authority"].append(float(views))
            rows["text"].append(clip_text(render_facts(facts), ctx.text_chars))
    return population(
        "mace", "entity", rows, "facts", "12-month Wikipedia page views (MACE entity facts)"
    )


@BENCHES.register("popqa")
def popqa(ctx: BenchContext) -> Population:
    """PopQA long-tail subjects and their objects; authority = monthly page views."""
    df = pl.read_csv(ctx.shared_file("popqa_longtail_disambiguated/DisambPopQA.csv"))
    parts = []
    for side in ("s", "o"):
        parts.append(
            df.select(
                pl.col(f"{side}_uri").str.extract(r"(Q\d+)$").alias("item_id"),
                pl.col(f"{side}_wiki_title").alias("name"),
                pl.col(f"{side}_pop").cast(pl.Float64).alias("authority"),
            )
        )
    ents = (
        pl.concat(parts)
        .filter(pl.col("item_id").is_not_null() & (pl.col("authority") >= 0))
        .group_by("item_id")
        .agg(pl.col("name").first(), pl.col("authority").max())
        .sort("item_id")
    )
    return population(
        "popqa",
        "entity",
        {**ents.to_dict(as_series=False), "text": [None] * ents.height},
        None,
        "PopQA monthly Wikipedia page views (s_pop, o_pop; no page text)",
    )


def bench_names() -> list[str]:
    return BENCHES.names()


def load_population(name: str, ctx: BenchContext) -> Population:
    """The population of bench ``name``."""
    return BENCHES.get(name)(ctx)


def authority_array(pop: Population) -> np.ndarray:
    return pop.items["authority"].to_numpy()
