"""MMEB-like tasks on the visual world (P2/P7): every item is a query against ``k`` candidates
with one positive, scored by Precision@1 as MMEB does.

- ``i2t``: a page image -> its title among the titles of pages about other entities;
- ``t2i``: an entity's name -> its card among other entities' cards;
- ``cls``: a card -> the label description of its entity type (retrieval over the four labels);
- ``vqa``: a card + a question that names nothing ("How many squares does this card show?",
  "Which year does this card print?") -> the answer among candidates of the same kind, so the
  answer needs the image and the question alone is at chance.

Cards of variant ``a`` are the training split, variant ``b`` the test split (the same entities,
jittered renders); pages are split by a seeded draw. Draws come from child streams of the
``visual`` facet, one per task (``TASK_STREAMS``, append only).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from trustir.sources.world.streams import facet_child_rng
from trustir.sources.world.visual import TYPE_COLOURS

TASKS = ("i2t", "t2i", "cls", "vqa")
#: child stream of the visual facet per task (0 is left to the renders' own draws).
TASK_STREAMS = {"i2t": 1, "t2i": 2, "cls": 3, "vqa": 4, "split": 5}
LABELS = {etype: f"a card about a {etype}" for etype in TYPE_COLOURS}
INSTRUCTIONS = {
    "i2t": "find the title of this page",
    "cls": "what kind of thing is this card about",
}
QUESTIONS = {
    "level": "how many squares does this card show",
    "year": "which year does this card print",
}
NUMBER_WORDS = ("one", "two", "three", "four", "five")
ITEMS = {
    "task": pl.String,
    "item_id": pl.String,
    "split": pl.String,
    "query_image": pl.String,  # an image id, or "" for a text query
    "query_text": pl.String,
    "candidate_kind": pl.String,  # "text" | "image"
    "candidates": pl.List(pl.String),  # texts or image ids
    "positive": pl.Int64,  # index of the positive in candidates
}


def _place(positive: str, negatives: list[str], rng: np.random.Generator) -> tuple[list, int]:
    """Candidates with the positive at a random position."""
    at = int(rng.integers(0, len(negatives) + 1))
    return [*negatives[:at], positive, *negatives[at:]], at


def _split_of(rec: dict, page_split: dict[str, str]) -> str:
    if rec["kind"] == "card":
        return "train" if rec["variant"] == "a" else "test"
    return page_split[rec["image_id"]]


def build_tasks(records: pl.DataFrame, seed: int, k: int = 8, test_fraction: float = 0.3):
    """Every task's items as one frame (schema ``ITEMS``) from the visual records."""
    if k < 2:
        raise ValueError(f"vision.candidates must be at least 2, got {k}")
    recs = records.to_dicts()
    pages = [r for r in recs if r["kind"] == "page"]
    cards = [r for r in recs if r["kind"] == "card"]
    u = facet_child_rng(seed, "visual", TASK_STREAMS["split"]).random(len(pages))
    page_split = {
        r["image_id"]: "test" if x < test_fraction else "train"
        for r, x in zip(pages, u.tolist(), strict=True)
    }
    rows: list[tuple] = []
    rows += _i2t(pages, page_split, k, facet_child_rng(seed, "visual", TASK_STREAMS["i2t"]))
    rows += _t2i(cards, k, facet_child_rng(seed, "visual", TASK_STREAMS["t2i"]))
    rows += _cls(cards, facet_child_rng(seed, "visual", TASK_STREAMS["cls"]))
    rows += _vqa(cards, k, facet_child_rng(seed, "visual", TASK_STREAMS["vqa"]))
    return pl.DataFrame(rows, schema=ITEMS, orient="row")


def _others(pool: list[dict], entity_id: str, n: int, rng: np.random.Generator) -> list[dict]:
    """``n`` records of pool about other entities (distinct entities), seeded."""
    picked: list[dict] = []
    seen = {entity_id}
    for i in rng.permutation(len(pool)).tolist():
        if pool[i]["entity_id"] not in seen:
            seen.add(pool[i]["entity_id"])
            picked.append(pool[i])
            if len(picked) == n:
                break
    return picked


def _i2t(pages, page_split, k, rng) -> list[tuple]:
    rows = []
    for rec in pages:
        negs = [r["title"] for r in _others(pages, rec["entity_id"], k - 1, rng)]
        cands, pos = _place(rec["title"], negs, rng)
        split = page_split[rec["image_id"]]
        rows.append(
            ("i2t", f"i2t-{rec['image_id']}", split, rec["image_id"], INSTRUCTIONS["i2t"],
             "text", cands, pos)
        )  # fmt: skip
    return rows


def _t2i(cards, k, rng) -> list[tuple]:
    rows = []
    for variant, split in (("a", "train"), ("b", "test")):
        pool = [r for r in cards if r["variant"] == variant]
        for rec in pool:
            negs = [r["image_id"] for r in _others(pool, rec["entity_id"], k - 1, rng)]
            cands, pos = _place(rec["image_id"], negs, rng)
            rows.append(
                ("t2i", f"t2i-{rec['image_id']}", split, "", rec["name"], "image", cands, pos)
            )
    return rows


def _cls(cards, rng) -> list[tuple]:
    labels = list(LABELS.values())
    rows = []
    for rec in cards:
        split = "train" if rec["variant"] == "a" else "test"
        pos = list(LABELS).index(rec["etype"])
        rows.append(
            ("cls", f"cls-{rec['image_id']}", split, rec["image_id"], INSTRUCTIONS["cls"],
             "text", labels, pos)
        )  # fmt: skip
    return rows


def _vqa(cards, k, rng) -> list[tuple]:
    years = sorted({r["year"] for r in cards})
    rows = []
    for rec in cards:
        split = "train" if rec["variant"] == "a" else "test"
        if rng.random() < 0.5:
            kind, cands = "level", list(NUMBER_WORDS)
            pos = rec["level"] - 1
        else:
            kind = "year"
            others = [y for y in years if y != rec["year"]]
            pick = rng.choice(len(others), size=min(k - 1, len(others)), replace=False)
            cands, pos = _place(rec["year"], [others[i] for i in sorted(pick.tolist())], rng)
        rows.append(
            ("vqa", f"vqa-{kind}-{rec['image_id']}", split, rec["image_id"], QUESTIONS[kind],
             "text", cands, pos)
        )  # fmt: skip
    return rows


def question_only_p1(items: pl.DataFrame) -> dict[str, float]:
    """A text-only baseline that sees the query text and the candidates but not the image: it
    answers each test query with the candidate most often right for the same query text in the
    training split (ties: the first candidate). Returns (P@1, chance) of the test items."""
    train = items.filter(pl.col("split") == "train")
    counts: dict[tuple[str, str], int] = {}
    for r in train.iter_rows(named=True):
        key = (r["query_text"], r["candidates"][r["positive"]])
        counts[key] = counts.get(key, 0) + 1
    hits, chance = [], []
    for r in items.filter(pl.col("split") == "test").iter_rows(named=True):
        votes = [counts.get((r["query_text"], c), 0) for c in r["candidates"]]
        hits.append(float(int(np.argmax(votes)) == r["positive"]))
        chance.append(1.0 / len(r["candidates"]))
    return {"P@1": float(np.mean(hits)), "chance": float(np.mean(chance)), "n": len(hits)}
