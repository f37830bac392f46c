"""VQA on the visual world (P10): a rendered page, a question whose answer the page shows, and
the gold answers.

A page qualifies when its shown text (the title and the first words the render prints) states a
fact about the page's entity correctly; the question asks for that fact with one of the
attribute's question phrasings (``sources.world.attributes``) and the entity's full name; the
gold answers are the values the page states (entity values by name). One question per page
(its first shown fact); ``lvlm.items`` pages are a seeded, prefix-stable choice.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from trustir.calibration.qa import is_correct
from trustir.sources.world import World
from trustir.sources.world.attributes import attribute

VQA = {
    "qid": pl.String,
    "image_id": pl.String,
    "image_sha": pl.String,
    "question": pl.String,
    "answers": pl.List(pl.String),
    "attribute": pl.String,
    "entity_id": pl.String,
    "page_text": pl.String,  # what the render shows, as text: title, newline, body words
}


def page_text(record: dict) -> str:
    """The text a page's render shows: its title line, then its first words."""
    return f"{record['title']}\n{record['text']}"


def value_names(world: World, etype: str, attr: str, values: list[str]) -> list[str]:
    """A statement's values as the page writes them (entity ids -> entity names)."""
    if attribute(etype, attr).kind != "entity":
        return list(values)
    by_id = world.entities.by_id()
    return [by_id[v].name for v in values]


def shown_facts(world: World, records: pl.DataFrame) -> list[dict]:
    """Every page (in image-id order) with its first correctly stated fact that it shows."""
    pages = records.filter(pl.col("kind") == "page").sort("image_id")
    st = world.pages.statements.filter(pl.col("correct"))
    by_doc: dict[str, list[tuple[str, str, list[str]]]] = {}
    for doc, ent, attr, _, vals in st.iter_rows():
        by_doc.setdefault(doc, []).append((ent, attr, list(vals)))
    out = []
    for rec in pages.iter_rows(named=True):
        shown = page_text(rec)
        for ent, attr, vals in by_doc.get(rec["doc_id"], []):
            if ent != rec["entity_id"]:
                continue
            names = value_names(world, rec["etype"], attr, vals)
            if all(is_correct(shown, [v], "contains") for v in names):
                out.append({**rec, "attribute": attr, "answers": names})
                break
    return out


def question_text(template: str, name: str) -> str:
    """A question from an attribute's phrasing: the name in, capitalised, a question mark."""
    text = template.replace("{n}", name)
    return text[0].upper() + text[1:] + "?"


def build_vqa(world: World, records: pl.DataFrame, n_items: int, seed: int) -> pl.DataFrame:
    """``n_items`` VQA items (schema ``VQA``), a seeded prefix-stable choice of the shown facts."""
    facts = shown_facts(world, records)
    if not facts:
        raise ValueError("lvlm: no rendered page shows a fact (raise vision.max_pages)")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(facts))
    phrasing = rng.random(len(facts))
    rows = []
    for i in sorted(order[:n_items].tolist()):
        f = facts[i]
        asks = attribute(f["etype"], f["attribute"]).asks
        q = question_text(asks[int(phrasing[i] * len(asks))], f["name"])
        rows.append(
            (f"v{f['doc_id']}", f["image_id"], f["sha256"], q, f["answers"], f["attribute"],
             f["entity_id"], page_text(f))
        )  # fmt: skip
    return pl.DataFrame(rows, schema=VQA, orient="row")
