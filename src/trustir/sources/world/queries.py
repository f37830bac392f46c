"""Queries facet: questions about facts, Zipf frequencies, a train/test split and graded qrels.

Every fact that at least one document states correctly can be asked. All per-fact draws are made
for every askable fact in a fixed order before the ``n`` most wanted are kept, so asking for more
queries keeps the first ones (ids, texts, splits) as they were.

Grades ("world"): 3 the document states the fact correctly, 2 states it wrongly, 1 names the
entity without stating that attribute; 0 is not written. "human": one grade-3 document per
train query (a sparse single-positive label set).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from trustir.schema import conform
from trustir.sources.world.attributes import attribute
from trustir.sources.world.entities import EntityWorld, id_width, short_name
from trustir.sources.world.pages import Pages

#: queries about popular entities are asked more: selection weight = popularity ** this.
ASK_EXPONENT = 0.8
#: freq of the r-th most wanted query ~ FREQ_TOP * r ** -FREQ_EXPONENT (times a little noise).
FREQ_TOP = 2000.0
FREQ_EXPONENT = 1.0
#: P(a question names its entity by the short name: a surname, a company's first word...).
P_SHORT = 0.65
OPENERS = ("", "", "", "", "quick question: ", "please tell me ", "does anyone know ")
#: openers only go before full questions (not before "{n} profession").
WH_WORDS = ("what", "which", "where", "who", "whose", "when", "how", "in")


@dataclass(frozen=True)
class QuerySet:
    """``queries``, ``qrels`` and ``facts`` (query_id, entity_id, attribute) behind each query."""

    queries: pl.DataFrame
    qrels: pl.DataFrame
    facts: pl.DataFrame


def askable_facts(pages: Pages) -> pl.DataFrame:
    """(entity_id, attribute) pairs stated correctly at least once, in a fixed order."""
    return (
        pages.statements.filter(pl.col("correct"))
        .select("entity_id", "attribute")
        .unique()
        .sort("entity_id", "attribute")
    )


def _question(template: str, name: str, opener: str, mark: bool) -> str:
    if template.split(" ", 1)[0] not in WH_WORDS:
        opener = ""
    text = opener + template.replace("{n}", name)
    return text[0].upper() + text[1:] + "?" if mark else text


def _splits(n: int, test_fraction: float, offset: float) -> list[str]:
    """Systematic split in rank order: exactly round-ish ``test_fraction`` test at every prefix."""
    pos = np.arange(n)
    test = np.floor((pos + 1) * test_fraction + offset) > np.floor(pos * test_fraction + offset)
    return np.where(test, "test", "train").tolist()


def graded_qrels(facts: pl.DataFrame, pages: Pages) -> pl.DataFrame:
    """World qrels: 3/2 for correct/wrong statements of the asked fact, 1 for other mentions."""
    stated = facts.join(pages.statements, on=["entity_id", "attribute"]).select(
        "query_id",
        "doc_id",
        pl.when(pl.col("correct")).then(3).otherwise(2).cast(pl.Int64).alias("relevance"),
    )
    named = (
        facts.join(pages.mentions, on="entity_id")
        .select("query_id", "doc_id", pl.lit(1, dtype=pl.Int64).alias("relevance"))
        .join(stated, on=["query_id", "doc_id"], how="anti")
    )
    return (
        pl.concat([stated, named])
        .unique(["query_id", "doc_id"], keep="first", maintain_order=True)
        .with_columns(pl.lit("world").alias("source"))
        .sort("query_id", "doc_id")
    )


def human_qrels(world: pl.DataFrame, queries: pl.DataFrame, pick: dict[str, float]) -> pl.DataFrame:
    """One grade-3 document per train query, chosen by the query's pre-drawn ``pick`` in [0, 1)."""
    train = queries.filter(pl.col("split") == "train")["query_id"].to_list()
    pos = world.filter(pl.col("relevance") == 3).group_by("query_id").agg(pl.col("doc_id").sort())
    docs = dict(zip(pos["query_id"].to_list(), pos["doc_id"].to_list(), strict=True))
    rows = [(q, docs[q][int(pick[q] * len(docs[q]))]) for q in train]
    return pl.DataFrame(
        rows, schema={"query_id": pl.String, "doc_id": pl.String}, orient="row"
    ).with_columns(pl.lit(3, dtype=pl.Int64).alias("relevance"), pl.lit("human").alias("source"))


def generate_queries(
    n: int, ents: EntityWorld, pages: Pages, test_fraction: float, rng: np.random.Generator
) -> QuerySet:
    """The queries facet: up to ``n`` questions about askable facts, with qrels."""
    facts = askable_facts(pages)
    m = facts.height
    by_id = ents.by_id()
    # every draw is made for every askable fact, in order, before selection (prefix stability)
    key_u = rng.random(m)
    template_u = rng.random(m)
    opener_u = rng.random(m)
    short_u = rng.random(m)
    mark_u = rng.random(m)
    pick_u = rng.random(m)
    noise = rng.normal(0.0, 0.3, m)
    offset = float(rng.random())
    pop = np.array([by_id[e].popularity for e in facts["entity_id"].to_list()])
    keys = np.log(key_u) / pop**ASK_EXPONENT  # Efraimidis-Spirakis weighted order
    order = np.argsort(-keys, kind="stable")[: min(n, m)]
    width = id_width(m, 4)  # from the corpus only: ids stay put when more queries are asked
    full_names = {e.name for e in ents.entities}
    qids, texts, freqs = [], [], []
    rows = facts.rows()
    for rank, i in enumerate(order.tolist(), start=1):
        eid, attr_name = rows[i]
        ent = by_id[eid]
        asks = attribute(ent.etype, attr_name).asks
        template = asks[int(template_u[i] * len(asks))]
        opener = OPENERS[int(opener_u[i] * len(OPENERS))]
        short = short_name(ent.name, ent.etype)
        # a short name that is another entity's full name would ask about that entity
        name = short if short_u[i] < P_SHORT and short not in full_names else ent.name
        texts.append(_question(template, name, opener, mark_u[i] < 0.6))
        qids.append(f"q{rank:0{width}d}")
        freqs.append(max(1, int(round(FREQ_TOP * rank**-FREQ_EXPONENT * np.exp(noise[i])))))
    queries = conform(
        pl.DataFrame(
            {
                "query_id": qids,
                "text": texts,
                "split": _splits(len(qids), test_fraction, offset),
                "freq": freqs,
            }
        ),
        "queries",
    )
    asked = (
        facts[order.tolist()]
        .with_columns(pl.Series("query_id", qids))
        .select("query_id", "entity_id", "attribute")
    )
    world = graded_qrels(asked, pages)
    pick = dict(zip(qids, pick_u[order].tolist(), strict=True))
    human = human_qrels(world, queries, pick)
    qrels = conform(pl.concat([world, human.select(world.columns)]), "qrels")
    return QuerySet(queries=queries, qrels=qrels, facts=asked)
