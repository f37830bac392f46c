"""Pages facet: the corpus — short documents hosted on domains that state (or garble) entity facts.

Each document is about one entity. A *fact page* states one to three of its attributes, each wrong
with a probability that falls with the hosting domain's authority level (``P_WRONG``); a *news
page* only mentions the entity (filler, co-mentions of other entities, boilerplate). The facet
also returns what each document states (``statements``) and which entities it names
(``mentions``): the ground truth the queries facet grades against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import polars as pl

from trustir.schema import conform
from trustir.sources.world import lexicon as lx
from trustir.sources.world.attributes import ATTRIBUTES, NEWS_TITLES, REFERENCES, TITLES, Attribute
from trustir.sources.world.entities import Entity, EntityWorld, draw_value, id_width, round_count

#: P(a stated fact is wrong) by domain level 1 (lowest PageRank) .. 5.
P_WRONG = {1: 0.5, 2: 0.32, 3: 0.2, 4: 0.1, 5: 0.05}
#: share of documents that only mention their entity.
P_NEWS = 0.22
#: P(1, 2, 3 facts) on a fact page.
FACTS_PER_PAGE = (0.35, 0.45, 0.2)
#: docs per entity grow as popularity ** this (before the floor of ``MIN_DOCS``).
DOCS_EXPONENT = 0.7
MIN_DOCS = 2
#: domains host documents in proportion to pagerank ** this.
HOSTING_EXPONENT = 0.5
WORDS = (40, 75)
SECTIONS = {
    "person": ("people", "profiles", "wiki"),
    "city": ("places", "travel", "wiki"),
    "company": ("business", "companies", "wiki"),
    "book": ("books", "reviews", "wiki"),
}


@dataclass(frozen=True)
class Pages:
    """The corpus and its ground truth.

    ``statements``: doc_id, entity_id, attribute, correct (bool), values (list[str], as stated).
    ``mentions``: doc_id, entity_id for every entity a document names (its own included).
    """

    corpus: pl.DataFrame
    statements: pl.DataFrame
    mentions: pl.DataFrame


@dataclass
class _Doc:
    """A document being written: sentences, the facts it states and the entities it names."""

    entity: Entity
    sentences: list[str]
    statements: list[tuple[str, bool, list[str]]]
    mentions: set[str]

    def words(self) -> int:
        return sum(len(s.split()) for s in self.sentences)


@dataclass(frozen=True)
class _Context:
    """What every document draws on: entities, names, candidate ids and co-mention weights."""

    ents: EntityWorld
    names: dict[str, str]
    ids_by_type: dict[str, list[str]]
    co_mention_p: np.ndarray

    @classmethod
    def of(cls, ents: EntityWorld) -> _Context:
        weights = np.array([e.popularity for e in ents.entities]) ** 0.5
        return cls(
            ents=ents,
            names={e.entity_id: e.name for e in ents.entities},
            ids_by_type={t: [e.entity_id for e in ents.of_type(t)] for t in ATTRIBUTES},
            co_mention_p=weights / weights.sum(),
        )


def _pick(pool: tuple[str, ...], rng: np.random.Generator) -> str:
    return pool[int(rng.integers(len(pool)))]


def _join(values: list[str]) -> str:
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]


def docs_per_entity(ents: EntityWorld, n_docs: int, rng: np.random.Generator) -> np.ndarray:
    """How many documents each entity gets: a floor, the rest by popularity ** DOCS_EXPONENT."""
    n = len(ents.entities)
    base = min(MIN_DOCS, n_docs // n)
    weights = np.array([e.popularity for e in ents.entities]) ** DOCS_EXPONENT
    return base + rng.multinomial(n_docs - base * n, weights / weights.sum())


def wrong_values(
    attr: Attribute, truth: tuple[str, ...], stated: list[str], rng: np.random.Generator, ids
) -> list[str]:
    """``stated`` with its values (one of them, for a multi-answer attribute) made wrong."""
    if attr.kind == "year":
        shift = int(rng.integers(1, 31)) * (1 if rng.random() < 0.5 else -1)
        return [str(int(truth[0]) + shift)]
    if attr.kind == "count":
        true = int(truth[0].replace(",", ""))
        factor = rng.uniform(1.3, 3.0) ** (1 if rng.random() < 0.5 else -1)
        return [f"{round_count(true * factor):,}"]
    out = list(stated)
    out[int(rng.integers(len(out)))] = draw_value(attr, rng, ids, exclude=truth + tuple(stated))
    return out


def _render(template: str, name: str, ref: str, value: str, first: bool) -> str:
    """A sentence from ``template``; a later subject ``{n}`` may become a reference."""
    if not first and ref and template.startswith("{n} "):
        name = ref
    sentence = template.replace("{n}", name).replace("{v}", value)
    sentence = re.sub(r"\b(a) ([aeiouAEIOU])", r"an \2", sentence)
    return sentence[0].upper() + sentence[1:]


def _reference(ent: Entity, rng: np.random.Generator) -> str:
    return ent.pronoun if ent.etype == "person" else _pick(REFERENCES[ent.etype], rng)


def _fact_sentences(doc: _Doc, ctx: _Context, level: int, rng: np.random.Generator) -> None:
    """Add one to three fact statements about the document's entity."""
    ent = doc.entity
    attrs = ATTRIBUTES[ent.etype]
    k = min(1 + int(rng.choice(3, p=FACTS_PER_PAGE)), len(attrs))
    weights = np.array([a.weight for a in attrs])
    chosen = np.sort(rng.choice(len(attrs), size=k, replace=False, p=weights / weights.sum()))
    for i in chosen.tolist():
        attr = attrs[i]
        truth = ctx.ents.facts[(ent.entity_id, attr.name)]
        n_stated = min(int(rng.integers(1, 3)), len(truth)) if attr.multi else 1
        picks = np.sort(rng.choice(len(truth), n_stated, replace=False)).tolist()
        stated = [truth[j] for j in picks]
        correct = bool(rng.random() >= P_WRONG[level])
        if not correct:
            ids = [x for x in ctx.ids_by_type.get(attr.target, []) if x != ent.entity_id]
            stated = wrong_values(attr, truth, stated, rng, ids)
        shown = [ctx.names.get(v, v) for v in stated]
        if attr.kind == "entity":
            doc.mentions.update(stated)
        first = not doc.sentences
        template = _pick(attr.says, rng)
        doc.sentences.append(_render(template, ent.name, _reference(ent, rng), _join(shown), first))
        doc.statements.append((attr.name, correct, stated))


def _filler_sentences(
    doc: _Doc, ctx: _Context, target: int, co_mention: float, rng: np.random.Generator
) -> None:
    """Pad the document with filler, maybe a co-mention and boilerplate up to ~``target`` words."""
    ent = doc.entity
    fillers = lx.FILLERS[ent.etype]
    extra: list[str] = []
    if rng.random() < co_mention:
        other = ctx.ents.entities[int(rng.choice(len(ctx.ents.entities), p=ctx.co_mention_p))]
        if other.entity_id != ent.entity_id:
            doc.mentions.add(other.entity_id)
            extra.append(_pick(lx.CO_MENTIONS, rng).replace("{o}", other.name))
    if rng.random() < 0.35:
        extra.append(_pick(lx.BOILERPLATE, rng))
    for i in rng.permutation(len(fillers)).tolist():
        if doc.words() + sum(len(s.split()) for s in extra) >= target:
            break
        first = not doc.sentences
        doc.sentences.append(_render(fillers[i], ent.name, _reference(ent, rng), "", first))
    for s in extra:
        doc.sentences.append(_render(s, ent.name, _reference(ent, rng), "", False))


def _shuffle_tail(sentences: list[str], rng: np.random.Generator) -> list[str]:
    """Keep the first sentence (it names the entity) and shuffle the rest."""
    tail = [sentences[i] for i in (1 + rng.permutation(len(sentences) - 1)).tolist()]
    return sentences[:1] + tail


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def write_doc(
    ent: Entity, news: bool, level: int, ctx: _Context, rng: np.random.Generator
) -> tuple[str, _Doc]:
    """One document about ``ent``: (title, doc). News pages state no fact."""
    doc = _Doc(entity=ent, sentences=[], statements=[], mentions={ent.entity_id})
    target = int(rng.integers(WORDS[0], WORDS[1] + 1))
    if not news:
        _fact_sentences(doc, ctx, level, rng)
    _filler_sentences(doc, ctx, target, 0.6 if news else 0.3, rng)
    doc.sentences = _shuffle_tail(doc.sentences, rng)
    title = _pick(NEWS_TITLES if news else TITLES, rng).replace("{n}", ent.name)
    return title, doc


def generate_pages(
    n_docs: int, ents: EntityWorld, domains: pl.DataFrame, rng: np.random.Generator
) -> Pages:
    """The pages facet: ``n_docs`` documents about the entities, hosted on ``domains``."""
    ctx = _Context.of(ents)
    counts = docs_per_entity(ents, n_docs, rng)
    slots = np.repeat(np.arange(len(ents.entities)), counts)[rng.permutation(int(counts.sum()))]
    pr = domains["pagerank"].to_numpy() ** HOSTING_EXPONENT
    hosts = rng.choice(domains.height, size=len(slots), p=pr / pr.sum())
    news = rng.random(len(slots)) < P_NEWS
    dom_names = domains["domain"].to_list()
    dom_levels = domains["level"].to_list()
    width = id_width(len(slots), 5)
    rows: dict[str, list[str]] = {k: [] for k in ("doc_id", "title", "text", "domain", "url")}
    st_rows: list[tuple[str, str, str, bool, list[str]]] = []
    mention_rows: list[tuple[str, str]] = []
    for i, (slot, host, is_news) in enumerate(
        zip(slots.tolist(), hosts.tolist(), news.tolist(), strict=True)
    ):
        ent = ents.entities[slot]
        doc_id = f"d{i + 1:0{width}d}"
        title, doc = write_doc(ent, is_news, dom_levels[host], ctx, rng)
        section = _pick(SECTIONS[ent.etype], rng)
        rows["doc_id"].append(doc_id)
        rows["title"].append(title)
        rows["text"].append(" ".join(doc.sentences))
        rows["domain"].append(dom_names[host])
        rows["url"].append(f"https://{dom_names[host]}/{section}/{_slug(ent.name)}-{i + 1}")
        st_rows += [(doc_id, ent.entity_id, a, c, v) for a, c, v in doc.statements]
        mention_rows += [(doc_id, e) for e in sorted(doc.mentions)]
    statements = pl.DataFrame(
        st_rows,
        schema={
            "doc_id": pl.String,
            "entity_id": pl.String,
            "attribute": pl.String,
            "correct": pl.Boolean,
            "values": pl.List(pl.String),
        },
        orient="row",
    )
    mentions = pl.DataFrame(
        mention_rows, schema={"doc_id": pl.String, "entity_id": pl.String}, orient="row"
    )
    return Pages(
        corpus=conform(pl.DataFrame(rows), "corpus"), statements=statements, mentions=mentions
    )
