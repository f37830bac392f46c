"""QA facet: yes/no questions over the world's facts with retrieved documents of mixed authority
(RAGAuth, P1).

A question asks whether a claim about an entity's attribute is true. It is drawn from the facts
that the pages state both rightly and wrongly (a "conflict"); half of the claims are true (a
valid value), half false (the wrong value a shown page states). Each question comes with up to
``top_k`` documents: one page stating the fact rightly, one stating it wrongly, then more pages
stating it (any way), then other pages about the entity; shown in a random order, each as a
snippet (title + the sentences stating the fact). Wrong pages sit on low-authority domains more
often (the pages facet's ``P_WRONG``), so filtering by authority can help.

Draws come from the ``qa`` facet's own stream, split into child streams by question kind
(``QA_KINDS``, append only), so other QA sets can join this facet without moving these bytes;
questions are drawn one after another, so asking for more questions keeps the first ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import polars as pl

from trustir.sources.world.attributes import ATTRIBUTES
from trustir.sources.world.streams import facet_rng

#: child stream of the ``qa`` facet per question kind (append only; never reorder).
QA_KINDS: dict[str, int] = {"authority_yesno": 0, "multi_answer": 1}
N_QA_STREAMS = 8
_SENTENCE = re.compile(r"(?<=[.!?])\s+")

QUESTIONS = {
    "qid": pl.String,
    "question": pl.String,
    "answers": pl.List(pl.String),
    "n_answers": pl.Int64,
    "entity_id": pl.String,
    "attribute": pl.String,
    "claim": pl.String,
    "value": pl.String,
}
DOCS = {
    "qid": pl.String,
    "rank": pl.Int64,
    "doc_id": pl.String,
    "domain": pl.String,
    "states_fact": pl.Boolean,
    "correct": pl.Boolean,
    "snippet": pl.String,
}


@dataclass(frozen=True)
class YesNoQA:
    """``questions`` (QUESTIONS: the qa contract plus the fact and value the claim names) and
    ``docs`` (DOCS:
    each question's retrieved documents in the order shown; ``correct`` is null for pages that
    do not state the fact)."""

    questions: pl.DataFrame
    docs: pl.DataFrame


def qa_rng(seed: int, kind: str) -> np.random.Generator:
    """The random stream of one question kind inside the ``qa`` facet."""
    try:
        index = QA_KINDS[kind]
    except KeyError:
        raise KeyError(f"unknown qa kind {kind!r}; known: {', '.join(QA_KINDS)}") from None
    return facet_rng(seed, "qa").spawn(N_QA_STREAMS)[index]


def _claim(template: str, name: str, value: str) -> str:
    text = template.replace("{n}", name).replace("{v}", value)
    text = re.sub(r"\b(a) ([aeiouAEIOU])", r"an \2", text)
    return text[0].upper() + text[1:]


def snippet(title: str, text: str, values: list[str], max_chars: int) -> str:
    """The title and the sentences naming any of ``values`` (else the first sentence)."""
    sentences = _SENTENCE.split(text)
    hits = [s for s in sentences if any(v and v in s for v in values)] or sentences[:1]
    out = f"{title}. {' '.join(hits)}"
    return out if len(out) <= max_chars else out[: max_chars - 1].rsplit(" ", 1)[0] + "…"


def generate_yesno(
    world, n_questions: int, top_k: int, rng: np.random.Generator, snippet_chars: int = 220
) -> YesNoQA:
    """``n_questions`` yes/no questions (alternating true and false claims) with documents."""
    if top_k < 2:
        raise ValueError(f"top_k must be at least 2 (a right and a wrong page), got {top_k}")
    ents = world.entities
    by_id = ents.by_id()
    names = {e.entity_id: e.name for e in ents.entities}
    corpus = world.pages.corpus.select("doc_id", "title", "text", "domain")
    doc = {r[0]: r[1:] for r in corpus.iter_rows()}
    st = world.pages.statements.sort("doc_id", "attribute")
    facts: dict[tuple[str, str], list[tuple[str, bool, list[str]]]] = {}
    for did, eid, attr, correct, values in st.iter_rows():
        facts.setdefault((eid, attr), []).append((did, correct, list(values)))
    conflicts = sorted(
        k for k, v in facts.items() if any(c for _, c, _ in v) and not all(c for _, c, _ in v)
    )
    by_entity: dict[str, list[tuple[str, str, list[str]]]] = {}
    for (eid, attr), rows in facts.items():
        by_entity.setdefault(eid, []).extend((did, attr, vals) for did, _, vals in rows)
    q_rows, d_rows = [], []
    for idx in rng.permutation(len(conflicts)).tolist()[:n_questions]:
        eid, attr_name = conflicts[idx]
        ent = by_id[eid]
        attr = next(a for a in ATTRIBUTES[ent.etype] if a.name == attr_name)
        rows = facts[(eid, attr_name)]
        truth = set(ents.facts[(eid, attr_name)])
        right = [r for r in rows if r[1]]
        wrong = [r for r in rows if not r[1]]
        first = [right[int(rng.integers(len(right)))], wrong[int(rng.integers(len(wrong)))]]
        rest = [r for r in rows if r not in first]
        rest = [rest[i] for i in rng.permutation(len(rest)).tolist()]
        chosen = [(did, c, vals, True) for did, c, vals in (first + rest)[:top_k]]
        if len(chosen) < top_k:  # pad with other pages about the entity
            taken = {c[0] for c in chosen}
            other = sorted(
                {(d, a) for d, a, _ in by_entity[eid] if d not in taken and a != attr_name}
            )
            for i in rng.permutation(len(other)).tolist():
                did = other[i][0]
                if did in taken:
                    continue
                vals = next(v for d, a, v in by_entity[eid] if d == did and a == other[i][1])
                chosen.append((did, None, vals, False))
                taken.add(did)
                if len(chosen) == top_k:
                    break
        qid = f"rq{len(q_rows) + 1:04d}"
        true_claim = len(q_rows) % 2 == 0
        if true_claim:
            valid = sorted(truth)
            value = valid[int(rng.integers(len(valid)))]
        else:
            shown_wrong = [vals for _, c, vals, _ in chosen if c is False]
            stated_wrong = sorted({v for vals in shown_wrong for v in vals if v not in truth})
            value = stated_wrong[int(rng.integers(len(stated_wrong)))]
        template = attr.says[int(rng.integers(len(attr.says)))]
        shown_value = names.get(value, value)
        claim = _claim(template, ent.name, shown_value)
        q_rows.append(
            (qid, f"Is this claim true? {claim}", ["yes" if true_claim else "no"], 1, eid,
             attr_name, claim, shown_value)
        )  # fmt: skip
        for rank, i in enumerate(rng.permutation(len(chosen)).tolist(), start=1):
            did, correct, vals, states = chosen[i]
            title, text, domain = doc[did]
            shown = [names.get(v, v) for v in vals]
            d_rows.append(
                (
                    qid,
                    rank,
                    did,
                    domain,
                    states,
                    correct,
                    snippet(title, text, shown, snippet_chars),
                )
            )
    questions = pl.DataFrame(q_rows, schema=QUESTIONS, orient="row")
    docs = pl.DataFrame(d_rows, schema=DOCS, orient="row")
    return YesNoQA(questions, docs)


def authority_questions(
    world, seed: int, n_questions: int, top_k: int, snippet_chars: int = 220
) -> YesNoQA:
    """RAGAuth's questions for the world of ``seed`` (its own stream of the ``qa`` facet)."""
    rng = qa_rng(seed, "authority_yesno")
    return generate_yesno(world, n_questions, top_k, rng, snippet_chars)


# ---- multi-answer questions (P4 MACE calibration) -------------------------------------------
#: question templates of the inverse relations: "which entities have value v?" ({v} = value).
INVERSE_ASKS: dict[tuple[str, str], str] = {
    ("person", "occupation"): "Name one person who works as a {v}.",
    ("person", "birthplace"): "Name one person who was born in {v}.",
    ("person", "instruments"): "Name one person who plays the {v}.",
    ("person", "languages"): "Name one person who speaks {v}.",
    ("person", "award"): "Name one person who won the {v}.",
    ("city", "country"): "Name one city in {v}.",
    ("city", "river"): "Name one city on the river {v}.",
    ("city", "landmark"): "Name one city with a {v}.",
    ("city", "city_languages"): "Name one city where people speak {v}.",
    ("company", "industry"): "Name one company in the {v} industry.",
    ("company", "products"): "Name one company that makes {v}.",
    ("company", "headquarters"): "Name one company headquartered in {v}.",
    ("company", "founder"): "Name one company founded by {v}.",
    ("book", "author"): "Name one book written by {v}.",
    ("book", "genre"): "Name one book in the {v} genre.",
    ("book", "setting"): "Name one book set in {v}.",
    ("book", "themes"): "Name one book about {v}.",
}
ANSWER_COUNTS = (1, 2, 4, 6)
MULTI = {
    "qid": pl.String,
    "question": pl.String,
    "answers": pl.List(pl.String),
    "n_answers": pl.Int64,
    "domain": pl.String,
    "context_doc_ids": pl.List(pl.String),
    "context": pl.List(pl.String),
}


def multi_answer_questions(
    world,
    seed: int,
    per_count: int,
    counts: tuple[int, ...] = ANSWER_COUNTS,
    distractors: int = 2,
    snippet_chars: int = 160,
) -> pl.DataFrame:
    """Questions with exactly k valid answers *in their documents*, ``per_count`` for each k.

    A question inverts a relation ("Name one person who plays the harp.") over a value that at
    least k entities truly have, each stated correctly by some page. It shows k of those entities'
    pages (one correct page each; ``answers`` = their names) and ``distractors`` pages stating the
    same attribute of other entities (other values), shuffled: the in-context variant (the prompt
    holds ``context``, snippets of ``context_doc_ids``); closed-book prompts omit it. Each value
    group serves one question; larger counts are drawn first, so each count gets ``per_count``.
    ``domain`` is the relation (``person.instruments``). Drawn from the ``multi_answer`` stream
    of the ``qa`` facet, so other facets' bytes do not move.
    """
    rng = qa_rng(seed, "multi_answer")
    ents = world.entities
    by_id = ents.by_id()
    names = {e.entity_id: e.name for e in ents.entities}
    corpus = world.pages.corpus.select("doc_id", "title", "text")
    doc = {r[0]: (r[1], r[2]) for r in corpus.iter_rows()}
    st = world.pages.statements.filter(pl.col("correct")).sort("doc_id", "attribute")
    support: dict[tuple[str, str, str], dict[str, list[str]]] = {}  # group → entity → docs
    stated: dict[tuple[str, str], list[tuple[str, str, list[str]]]] = {}  # relation → docs
    for did, eid, attr, _, values in st.iter_rows():
        rel = (by_id[eid].etype, attr)
        if rel not in INVERSE_ASKS:
            continue
        stated.setdefault(rel, []).append((did, eid, list(values)))
        for v in values:
            support.setdefault((*rel, v), {}).setdefault(eid, []).append(did)
    groups = sorted(support)
    order = rng.permutation(len(groups)).tolist()
    used: set[int] = set()
    rows = []
    for k in sorted(counts, reverse=True):
        got = 0
        for gi in order:
            if got == per_count:
                break
            etype, attr, value = groups[gi]
            members = support[groups[gi]]
            if gi in used or len(members) < k:
                continue
            used.add(gi)
            got += 1
            truth = {e for (e, a), vals in ents.facts.items() if a == attr and value in vals}
            chosen = sorted(members)
            chosen = [chosen[i] for i in rng.permutation(len(chosen))[:k].tolist()]
            shown_value = names.get(value, value)
            ctx = []
            for eid in chosen:
                ds = members[eid]
                ctx.append((ds[int(rng.integers(len(ds)))], [shown_value]))
            others = [
                (did, vals)
                for did, eid, vals in stated[(etype, attr)]
                if value not in vals and eid not in truth
            ]
            for i in rng.permutation(len(others))[:distractors].tolist():
                did, vals = others[i]
                ctx.append((did, [names.get(v, v) for v in vals]))
            ctx = [ctx[i] for i in rng.permutation(len(ctx)).tolist()]
            snippets = [snippet(*doc[did], vals, snippet_chars) for did, vals in ctx]
            question = INVERSE_ASKS[(etype, attr)].replace("{v}", shown_value)
            rows.append(
                (f"mq{len(rows) + 1:04d}", question, [names[e] for e in chosen], k,
                 f"{etype}.{attr}", [d for d, _ in ctx], snippets)
            )  # fmt: skip
        if got < per_count:
            raise ValueError(
                f"the world (seed {seed}) has only {got} value groups with >= {k} stated "
                f"entities left for answer count {k}; ask fewer than {per_count} per count or a "
                "larger world (data.scale)"
            )
    return pl.DataFrame(rows, schema=MULTI, orient="row")
