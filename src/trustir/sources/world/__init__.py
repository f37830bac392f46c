"""The mini-world: a deterministic, seeded small web with known ground truth (DESIGN.md).

Facets, one module each, each drawing from its own seeded stream (``streams.FACETS``):
``entities`` (people, cities, companies, books; Zipf popularity; true attribute values),
``web`` (domains, a preferential-attachment link graph, PageRank, authority levels),
``pages`` (the corpus: short documents stating facts, wrong more often on low-authority
domains), ``queries`` (paraphrased questions about facts, Zipf frequency, train/test split,
graded "world" qrels and a sparse "human" label set). A facet only reads the facets before it,
so more queries leave the corpus, entities, domains and links byte-identical.

Multi-answer attributes (instruments, languages, products, themes...) have 2-3 valid values;
``World.entities.answers(entity_id, attribute)`` lists them for a QA facet.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from trustir.sources.world.entities import EntityWorld, generate_entities
from trustir.sources.world.pages import Pages, generate_pages
from trustir.sources.world.queries import QuerySet, generate_queries
from trustir.sources.world.streams import facet_rng
from trustir.sources.world.web import Web, generate_web

__all__ = ["Sizes", "World", "build_world", "generate_world"]

#: sizes of the world at scale 1 (and the floors that keep a tiny world well formed).
BASE_SIZES = {"entities": 300, "domains": 150, "docs": 2500, "queries": 500}
MIN_SIZES = {"entities": 20, "domains": 10, "docs": 80, "queries": 10}


@dataclass(frozen=True)
class Sizes:
    """How many of each thing the world has."""

    entities: int
    domains: int
    docs: int
    queries: int

    @classmethod
    def at(cls, scale: float = 1.0, query_scale: float = 1.0) -> Sizes:
        """Sizes at ``scale`` (one multiplier of all); ``query_scale`` scales queries only."""
        if scale <= 0 or query_scale <= 0:
            raise ValueError("scale and query_scale must be positive")
        mult = {k: scale * (query_scale if k == "queries" else 1.0) for k in BASE_SIZES}
        return cls(**{k: max(MIN_SIZES[k], int(round(v * mult[k]))) for k, v in BASE_SIZES.items()})


@dataclass(frozen=True)
class World:
    """Every facet of a generated world, with the ground truth behind the tables."""

    entities: EntityWorld
    web: Web
    pages: Pages
    queries: QuerySet

    def tables(self) -> dict[str, pl.DataFrame]:
        """The six contract tables (trustir.schema): corpus, queries, qrels, domains, links,
        entities."""
        return {
            "corpus": self.pages.corpus,
            "queries": self.queries.queries,
            "qrels": self.queries.qrels,
            "domains": self.web.domains,
            "links": self.web.links,
            "entities": self.entities.table(),
        }


def build_world(sizes: Sizes, seed: int = 13, test_fraction: float = 0.3) -> World:
    """Generate every facet with explicit ``sizes``; each facet uses its own seeded stream."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    ents = generate_entities(sizes.entities, facet_rng(seed, "entities"))
    web = generate_web(sizes.domains, facet_rng(seed, "web"))
    pages = generate_pages(sizes.docs, ents, web.domains, facet_rng(seed, "pages"))
    queries = generate_queries(
        sizes.queries, ents, pages, test_fraction, facet_rng(seed, "queries")
    )
    return World(entities=ents, web=web, pages=pages, queries=queries)


def generate_world(
    scale: float = 1.0, seed: int = 13, test_fraction: float = 0.3, *, query_scale: float = 1.0
) -> dict[str, pl.DataFrame]:
    """returns {"corpus", "queries", "qrels", "domains", "links", "entities"} conforming to
    trustir.schema"""
    return build_world(Sizes.at(scale, query_scale), seed, test_fraction).tables()
