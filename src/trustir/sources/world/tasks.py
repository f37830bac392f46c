"""Tasks facet: training sets of different kinds drawn from the world, for multi-task embedding
training (PAPERS.md P5).

Five families, each a small retrieval problem (queries, a corpus, graded qrels, hard negatives)
with its own train/test split, as MTEB casts every task as embedding similarity:

* ``qa`` - question -> document: the world's own queries and graded qrels (3 correct fact,
  2 wrong fact, 1 mention; positives >= 2 as in P3); negatives only mention the entity.
* ``dupq`` - duplicate questions: a rephrased question -> the canonical question about the same
  fact (a different question template and name form); negatives ask about the same entity.
* ``claim`` - claim -> evidence: a true or false claim about a fact -> the documents stating
  that fact (2 states the claimed value, 1 states another value); negatives only mention it.
* ``title`` - title -> body: a document's title -> its body (2), other bodies about the same
  entity (1); negatives are bodies about other entities that mention it.
* ``etype`` - entity-type classification: the opening of a document -> the description of its
  entity's type (person, city, company, book); negatives are the other types.

Every family draws from its own child of the ``tasks`` stream (``FAMILIES`` holds fixed
positions, append only), so adding a family leaves the others' bytes alone; the facet only reads
the world, so the world's tables are unchanged by it. Ids are prefixed ``<family>:``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from trustir.sources.world.attributes import attribute
from trustir.sources.world.entities import draw_value, short_name
from trustir.sources.world.queries import P_SHORT, askable_facts
from trustir.sources.world.streams import facet_rng

if TYPE_CHECKING:
    from trustir.sources.world import World

#: family -> child index of the tasks stream (append only; never reorder).
FAMILIES: dict[str, int] = {"qa": 0, "dupq": 1, "claim": 2, "title": 3, "etype": 4}
N_FAMILY_STREAMS = 16
#: hard negatives kept per query.
N_NEGATIVES = 3
OPENERS = ("", "", "", "please tell me ", "quick question: ", "i wonder ")
#: how a claim names an attribute.
LABELS = {
    "birthplace": "place of birth",
    "birth_year": "year of birth",
    "occupation": "profession",
    "instruments": "instrument",
    "languages": "language",
    "award": "award",
    "country": "country",
    "river": "river",
    "population": "population",
    "founded": "founding year",
    "landmark": "best-known sight",
    "city_languages": "local language",
    "founder": "founder",
    "headquarters": "head office",
    "founded_year": "year of establishment",
    "industry": "industry",
    "products": "product line",
    "ceo": "chief executive",
    "author": "author",
    "published": "publication year",
    "genre": "genre",
    "setting": "setting",
    "book_language": "original language",
    "themes": "theme",
}
CLAIMS = (
    "The {l} of {n} is {v}.",
    "{n}'s {l}: {v}.",
    "{v} is the {l} of {n}.",
    "Claim: {n} has {v} as {l}.",
    "Reportedly the {l} of {n} is {v}.",
)
TYPE_LABELS = {
    "person": "A person: a text about an individual, their life, career, family and skills.",
    "city": "A city: a text about a town or place, its country, river, people and sights.",
    "company": "A company: a text about a business or firm, its founders, products and offices.",
    "book": "A book: a text about a novel or written work, its author, story and themes.",
}
QUERY_COLS = {"query_id": pl.String, "text": pl.String, "split": pl.String}
CORPUS_COLS = {"doc_id": pl.String, "title": pl.String, "text": pl.String}
QREL_COLS = {"query_id": pl.String, "doc_id": pl.String, "relevance": pl.Int64, "source": pl.String}
NEG_COLS = {"query_id": pl.String, "doc_id": pl.String, "rank": pl.Int64}


@dataclass(frozen=True)
class TaskSet:
    """One family's data: queries (with split), corpus, graded qrels, hard negatives."""

    name: str
    kind: str  # retrieval | pair | classification
    description: str
    #: the lowest grade that is a training positive (lower grades are graded, not positives).
    positive_grade: int
    queries: pl.DataFrame  # query_id, text, split
    corpus: pl.DataFrame  # doc_id, title, text
    qrels: pl.DataFrame  # query_id, doc_id, relevance, source ("world")
    negatives: pl.DataFrame  # query_id, doc_id, rank: never graded >= positive_grade

    def tables(self) -> dict[str, pl.DataFrame]:
        return {
            "queries": self.queries,
            "corpus": self.corpus,
            "qrels": self.qrels,
            "negatives": self.negatives,
        }


@dataclass
class _Rows:
    """Rows of a task being built."""

    queries: list[tuple[str, str, str]]
    corpus: list[tuple[str, str, str]]
    qrels: list[tuple[str, str, int, str]]
    negatives: list[tuple[str, str, int]]

    @classmethod
    def empty(cls) -> _Rows:
        return cls([], [], [], [])

    def negs(self, qid: str, pool: list[str], rng: np.random.Generator, pre: str) -> None:
        """Up to N_NEGATIVES of ``pool`` (sorted first, then a seeded order) for ``qid``."""
        pool = sorted(set(pool))
        for rank, i in enumerate(rng.permutation(len(pool))[:N_NEGATIVES].tolist(), start=1):
            self.negatives.append((qid, f"{pre}:{pool[i]}", rank))

    def task(self, name: str, kind: str, description: str, positive: int) -> TaskSet:
        frame = _frame
        return TaskSet(
            name,
            kind,
            description,
            positive,
            frame(self.queries, QUERY_COLS),
            frame(self.corpus, CORPUS_COLS),
            frame(self.qrels, QREL_COLS).sort("query_id", "doc_id"),
            frame(self.negatives, NEG_COLS),
        )


def _frame(rows: list, schema: dict) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row")


def _split(u: float, test_fraction: float) -> str:
    return "test" if u < test_fraction else "train"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def doc_entities(world: World) -> dict[str, str]:
    """doc_id -> the entity the document is about (from its URL's slug)."""
    by_slug: dict[str, str] = {}
    for e in world.entities.entities:
        by_slug.setdefault(_slug(e.name), e.entity_id)
    out = {}
    for doc_id, url in world.pages.corpus.select("doc_id", "url").iter_rows():
        slug = re.sub(r"-\d+$", "", url.rsplit("/", 1)[1])
        if slug not in by_slug:
            raise ValueError(f"document {doc_id}: no entity has the URL slug {slug!r}")
        out[doc_id] = by_slug[slug]
    return out


def _name_form(world: World, entity_id: str, u: float, full_names: set[str]) -> str:
    """The short name with probability P_SHORT (unless it is another entity's full name)."""
    ent = world.entities.by_id()[entity_id]
    short = short_name(ent.name, ent.etype)
    return short if u < P_SHORT and short not in full_names else ent.name


def _question(template: str, name: str, opener: str, mark: bool) -> str:
    text = opener + template.replace("{n}", name)
    return text[0].upper() + text[1:] + ("?" if mark else "")


def qa_task(world: World, rng: np.random.Generator, n: int, test_fraction: float) -> TaskSet:
    """Question -> document: the world's queries, splits and world-graded qrels (``n`` and
    ``test_fraction`` are the world's own)."""
    rows = _Rows.empty()
    qrels = world.queries.qrels.filter(pl.col("source") == "world")
    mention_only = qrels.filter(pl.col("relevance") == 1).group_by("query_id").agg("doc_id")
    mentions = dict(mention_only.iter_rows())
    for qid, text, split in world.queries.queries.select("query_id", "text", "split").iter_rows():
        rows.queries.append((f"qa:{qid}", text, split))
        rows.negs(f"qa:{qid}", mentions.get(qid, []), rng, "qa")
    for doc_id, title, text in world.pages.corpus.select("doc_id", "title", "text").iter_rows():
        rows.corpus.append((f"qa:{doc_id}", title, text))
    for qid, doc_id, rel in qrels.select("query_id", "doc_id", "relevance").iter_rows():
        rows.qrels.append((f"qa:{qid}", f"qa:{doc_id}", rel, "world"))
    return rows.task("qa", "retrieval", "question -> document stating the fact", 2)


def dupq_task(world: World, rng: np.random.Generator, n: int, test_fraction: float) -> TaskSet:
    """Duplicate questions: a rephrased question -> the canonical question of its fact."""
    facts = askable_facts(world.pages).rows()
    m = len(facts)
    key_u, doc_u, q_u, short_u, open_u, mark_u, split_u = (rng.random(m) for _ in range(7))
    by_id = world.entities.by_id()
    full_names = {e.name for e in world.entities.entities}
    rows = _Rows.empty()
    by_entity: dict[str, list[str]] = {}
    for i, (eid, attr) in enumerate(facts):
        asks = attribute(by_id[eid].etype, attr).asks
        doc_id = f"f{i + 1:05d}"
        text = _question(asks[int(doc_u[i] * len(asks))], by_id[eid].name, "", True)
        rows.corpus.append((f"dupq:{doc_id}", "", text))
        by_entity.setdefault(eid, []).append(doc_id)
    for i in np.argsort(-key_u, kind="stable")[: min(n, m)].tolist():
        eid, attr = facts[i]
        asks = attribute(by_id[eid].etype, attr).asks
        k_doc = int(doc_u[i] * len(asks))
        k = (k_doc + 1 + int(q_u[i] * (len(asks) - 1))) % len(asks) if len(asks) > 1 else k_doc
        name = _name_form(world, eid, float(short_u[i]), full_names)
        opener = OPENERS[int(open_u[i] * len(OPENERS))]
        qid, doc_id = f"dupq:q{i + 1:05d}", f"f{i + 1:05d}"
        text = _question(asks[k], name, opener, mark_u[i] < 0.5)
        rows.queries.append((qid, text, _split(float(split_u[i]), test_fraction)))
        rows.qrels.append((qid, f"dupq:{doc_id}", 1, "world"))
        rows.negs(qid, [d for d in by_entity[eid] if d != doc_id], rng, "dupq")
    return rows.task("dupq", "pair", "question -> duplicate question (same fact)", 1)


def claim_task(world: World, rng: np.random.Generator, n: int, test_fraction: float) -> TaskSet:
    """Claim -> evidence: a true or false claim about a fact -> documents stating the fact."""
    st = world.pages.statements
    facts = st.select("entity_id", "attribute").unique().sort("entity_id", "attribute").rows()
    m = len(facts)
    key_u, true_u, val_u, tmpl_u, short_u, split_u = (rng.random(m) for _ in range(6))
    ents = world.entities
    by_id, names = ents.by_id(), {e.entity_id: e.name for e in ents.entities}
    full_names = set(names.values())
    stated = {
        (e, a): list(zip(docs, vals, strict=True))
        for e, a, docs, vals in st.group_by("entity_id", "attribute")
        .agg(pl.col("doc_id"), pl.col("values"))
        .iter_rows()
    }
    mentions = dict(world.pages.mentions.group_by("entity_id").agg("doc_id").iter_rows())
    rows = _Rows.empty()
    for doc_id, title, text in world.pages.corpus.select("doc_id", "title", "text").iter_rows():
        rows.corpus.append((f"claim:{doc_id}", title, text))
    for i in np.argsort(-key_u, kind="stable")[: min(n, m)].tolist():
        eid, attr_name = facts[i]
        attr = attribute(by_id[eid].etype, attr_name)
        truth = ents.facts[(eid, attr_name)]
        if true_u[i] < 0.5:
            value = truth[int(val_u[i] * len(truth))]
        else:
            ids = [e.entity_id for e in ents.of_type(attr.target) if e.entity_id != eid]
            value = draw_value(attr, rng, ids, exclude=truth)
        template = CLAIMS[int(tmpl_u[i] * len(CLAIMS))]
        name = _name_form(world, eid, float(short_u[i]), full_names)
        text = template.format(n=name, l=LABELS[attr_name], v=names.get(value, value))
        qid = f"claim:q{i + 1:05d}"
        rows.queries.append((qid, text[0].upper() + text[1:], _split(split_u[i], test_fraction)))
        evidence = stated[(eid, attr_name)]
        for doc_id, values in evidence:
            rows.qrels.append((qid, f"claim:{doc_id}", 2 if value in values else 1, "world"))
        graded = {d for d, _ in evidence}
        rows.negs(qid, [d for d in mentions.get(eid, []) if d not in graded], rng, "claim")
    return rows.task("claim", "retrieval", "claim -> documents stating the fact (evidence)", 1)


def title_task(world: World, rng: np.random.Generator, n: int, test_fraction: float) -> TaskSet:
    """Title -> body: a document's title -> its body; other bodies of its entity are graded 1."""
    corpus = world.pages.corpus
    about = doc_entities(world)
    docs_of: dict[str, list[str]] = {}
    for doc_id, eid in about.items():
        docs_of.setdefault(eid, []).append(doc_id)
    mentions = dict(world.pages.mentions.group_by("entity_id").agg("doc_id").iter_rows())
    m = corpus.height
    key_u, split_u = rng.random(m), rng.random(m)
    rows = _Rows.empty()
    doc_ids, titles = corpus["doc_id"].to_list(), corpus["title"].to_list()
    for doc_id, text in corpus.select("doc_id", "text").iter_rows():
        rows.corpus.append((f"title:{doc_id}", "", text))
    for i in np.argsort(-key_u, kind="stable")[: min(n, m)].tolist():
        doc_id, eid = doc_ids[i], about[doc_ids[i]]
        qid = f"title:q{i + 1:05d}"
        rows.queries.append((qid, titles[i], _split(split_u[i], test_fraction)))
        for other in docs_of[eid]:
            rows.qrels.append((qid, f"title:{other}", 2 if other == doc_id else 1, "world"))
        pool = [d for d in mentions.get(eid, []) if about[d] != eid]
        rows.negs(qid, pool, rng, "title")
    return rows.task("title", "retrieval", "document title -> document body", 2)


def etype_task(world: World, rng: np.random.Generator, n: int, test_fraction: float) -> TaskSet:
    """Entity-type classification: a document's opening -> its entity type's description."""
    corpus = world.pages.corpus
    about = doc_entities(world)
    by_id = world.entities.by_id()
    m = corpus.height
    key_u, split_u = rng.random(m), rng.random(m)
    rows = _Rows.empty()
    for etype, text in TYPE_LABELS.items():
        rows.corpus.append((f"etype:{etype}", "", text))
    doc_ids, texts = corpus["doc_id"].to_list(), corpus["text"].to_list()
    for i in np.argsort(-key_u, kind="stable")[: min(n, m)].tolist():
        etype = by_id[about[doc_ids[i]]].etype
        opening = " ".join(re.split(r"(?<=[.!?])\s+", texts[i])[:2])
        qid = f"etype:q{i + 1:05d}"
        rows.queries.append((qid, opening, _split(split_u[i], test_fraction)))
        rows.qrels.append((qid, f"etype:{etype}", 1, "world"))
        rows.negs(qid, [t for t in TYPE_LABELS if t != etype], rng, "etype")
    return rows.task("etype", "classification", "text -> entity-type description", 1)


BUILDERS: dict[str, Callable[..., TaskSet]] = {
    "qa": qa_task,
    "dupq": dupq_task,
    "claim": claim_task,
    "title": title_task,
    "etype": etype_task,
}


def generate_tasks(
    world: World,
    seed: int,
    n: int,
    test_fraction: float = 0.3,
    families: list[str] | None = None,
) -> dict[str, TaskSet]:
    """The task sets of ``families`` (default: all), about ``n`` queries each, from ``world``
    (built from the same ``seed``); each family from its own child of the ``tasks`` stream."""
    names = list(FAMILIES) if families is None else families
    unknown = [f for f in names if f not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown task families {unknown}; known: {', '.join(FAMILIES)}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    root = facet_rng(seed, "tasks").bit_generator.seed_seq
    children = root.spawn(N_FAMILY_STREAMS)  # type: ignore[union-attr]
    out = {}
    for name in names:
        rng = np.random.Generator(np.random.PCG64(children[FAMILIES[name]]))
        out[name] = BUILDERS[name](world, rng, n, test_fraction)
    return out
