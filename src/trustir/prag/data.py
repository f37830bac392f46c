"""P9's inputs: questions with answers, a corpus, each question's BM25 top-k and its noise draws.

Sources (``prag.data.source``): ``world`` — the mini-world's queries, answered by its synthetic
facts (entity attribute values; entity-valued facts by name), so a model's prior cannot know them
and only the world's documents carry them; ``jsonl`` — any {"id", "question", "answers"} file
(read by the calibration area's reader) with a BEIR-layout corpus; ``popqa`` — the PopQA
long-tail CSV with a BEIR-layout corpus (opt-in). Noise: at share ``s`` the ``round(s * k)``
lowest-ranked of the top-k are replaced, in order, by the question's noise documents (none of its
top ``exclude_depth``, no answer in their text), drawn first from the other questions' retrieved
documents (whose adapters are trained anyway), then from the rest of the corpus; the draws nest,
so a higher share keeps the lower share's replacements.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from trustir.calibration.qa import is_correct
from trustir.prag.params import PragDataParams, PragParams

QUESTIONS = {"qid": pl.String, "question": pl.String, "answers": pl.List(pl.String)}
CONTEXTS = {"qid": pl.String, "noise": pl.Float64, "rank": pl.Int64, "doc_id": pl.String,
            "retrieved": pl.Boolean}  # fmt: skip
DOCS = {"doc_id": pl.String, "title": pl.String, "text": pl.String, "entity": pl.String,
        "content_hash": pl.String}  # fmt: skip
POPQA_FILE = "DisambPopQA.csv"


@dataclass
class PragInputs:
    """``questions`` (QUESTIONS + hit), ``contexts`` (CONTEXTS: the k documents of every question
    at every noise level) and ``docs`` (DOCS: every document some context shows)."""

    questions: pl.DataFrame
    contexts: pl.DataFrame
    docs: pl.DataFrame
    hit_rate: float  # share of the candidate questions whose top-k holds an answer


def content_hash(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\x1f{text}".encode()).hexdigest()


def n_replaced(share: float, k: int) -> int:
    """How many of ``k`` documents a noise ``share`` replaces (round half up)."""
    return int(math.floor(share * k + 0.5))


def holds_answer(text: str, answers: list[str]) -> bool:
    return is_correct(text, answers, rule="contains")


def world_questions(dp: PragDataParams, data: Any) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The world's queries with their facts' values as answers, and its corpus with entities."""
    from trustir.sources.world import Sizes, build_world
    from trustir.sources.world.tasks import doc_entities

    world = build_world(Sizes.at(data.scale), data.seed, data.test_fraction)
    names = {e.entity_id: e.name for e in world.entities.entities}
    facts = {q: (e, a) for q, e, a in world.queries.facts.iter_rows()}
    q = world.queries.queries
    if dp.split != "all":
        q = q.filter(pl.col("split") == dp.split)
    rows = [
        (qid, text, [names.get(v, v) for v in world.entities.facts[facts[qid]]])
        for qid, text in q.select("query_id", "text").iter_rows()
    ]
    ents = doc_entities(world)
    corpus = world.pages.corpus.select("doc_id", "title", "text").with_columns(
        pl.col("doc_id").replace_strict(ents, return_dtype=pl.String).alias("entity")
    )
    return pl.DataFrame(rows, schema=QUESTIONS, orient="row"), corpus


def popqa_questions(folder: Path) -> pl.DataFrame:
    """PopQA's questions (``possible_answers``: a JSON list) from ``folder``/DisambPopQA.csv."""
    path = folder / POPQA_FILE
    if not path.is_file():
        raise FileNotFoundError(f"prag.data.questions: {path} is missing (the PopQA folder)")
    df = pl.read_csv(path, infer_schema=False)
    rows = []
    for i, r in enumerate(df.select("id", "question", "possible_answers").iter_rows(), start=2):
        try:
            answers = [str(a) for a in json.loads(r[2])]
        except (TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}:{i}: possible_answers is not a JSON list ({exc})") from None
        rows.append((f"popqa-{r[0]}", r[1], answers))
    return pl.DataFrame(rows, schema=QUESTIONS, orient="row")


def file_questions(dp: PragDataParams, root: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Questions from ``dp.questions`` (jsonl or popqa) and the BEIR corpus ``dp.corpus``."""
    from trustir.calibration.params import QAParams
    from trustir.calibration.qa import jsonl_qa
    from trustir.io.beir import CORPUS_FILE, find_beir_root, read_corpus
    from trustir.paths import resolve_data_path

    if not dp.questions or not dp.corpus:
        raise ValueError(f"prag.data.source {dp.source!r} needs prag.data.questions and .corpus")
    qpath = resolve_data_path(dp.questions, root)
    if dp.source == "popqa":
        qs = popqa_questions(qpath)
    else:
        qs = jsonl_qa(qpath, QAParams(source="jsonl", path=dp.questions), 0.5)
        qs = qs.select(list(QUESTIONS))
    corpus = read_corpus(find_beir_root(resolve_data_path(dp.corpus, root)) / CORPUS_FILE)
    corpus = corpus.select("doc_id", "title", "text").with_columns(
        pl.lit(None, dtype=pl.String).alias("entity")
    )
    return qs, corpus


def _noise_order(
    qid: str, answers: list[str], own: set[str], pool: list[str], corpus_ids: list[str],
    text: dict[str, str], k: int, seed: int,
) -> list[str]:  # fmt: skip
    """``k`` noise documents for one question, in replacement order (seeded by qid)."""
    rng = np.random.default_rng([seed, int(hashlib.sha256(qid.encode()).hexdigest()[:8], 16)])
    out: list[str] = []
    for cands in (pool, corpus_ids):
        for i in rng.permutation(len(cands)).tolist():
            d = cands[i]
            if d not in own and d not in out and not holds_answer(text[d], answers):
                out.append(d)
                if len(out) == k:
                    return out
    raise ValueError(f"question {qid}: fewer than {k} irrelevant documents in the corpus")


def build_inputs(params: PragParams, data: Any, bm25: Any, root: Path) -> PragInputs:
    """Questions, their top-k (BM25 with ``bm25`` settings) and noise contexts, and the docs."""
    from trustir.retrieval.bm25 import bm25_run

    dp = params.data
    if dp.source == "world":
        qs, corpus = world_questions(dp, data)
    else:
        qs, corpus = file_questions(dp, root)
    qs = qs.sort("qid")
    text = {d: f"{t} {x}".strip() for d, t, x in corpus.select("doc_id", "title", "text").rows()}
    depth = max(dp.top_k, dp.exclude_depth)
    queries = qs.select(pl.col("qid").alias("query_id"), pl.col("question").alias("text"))
    run = bm25_run(corpus, queries, bm25, depth=depth, show_progress=False)
    ranked = {q: [] for q in qs["qid"]}
    for q, d in run.sort("query_id", "rank").select("query_id", "doc_id").iter_rows():
        ranked[q].append(d)
    picked, tried = [], 0
    for qid, question, answers in qs.iter_rows():
        top = ranked[qid][: dp.top_k]
        if len(top) < dp.top_k:
            continue
        tried += 1
        hit = any(holds_answer(text[d], answers) for d in top)
        if hit or not dp.require_hit:
            picked.append((qid, question, answers, hit))
        if len(picked) == dp.max_questions:
            break
    if not picked:
        raise ValueError(f"prag.data: no question with {dp.top_k} retrieved documents (and a hit)")
    retrieved = sorted({d for qid, *_ in picked for d in ranked[qid][: dp.top_k]})
    corpus_ids = sorted(text)
    rows = []
    for qid, _, answers, _ in picked:
        top = ranked[qid][: dp.top_k]
        noise_docs = _noise_order(
            qid, answers, set(ranked[qid]), retrieved, corpus_ids, text, dp.top_k, dp.seed
        )
        for share in params.noise:
            n = n_replaced(share, dp.top_k)
            docs = top[: dp.top_k - n] + noise_docs[:n]
            for rank, d in enumerate(docs, start=1):
                rows.append((qid, float(share), rank, d, rank <= dp.top_k - n))
    contexts = pl.DataFrame(rows, schema=CONTEXTS, orient="row")
    used = set(contexts["doc_id"])
    docs = corpus.filter(pl.col("doc_id").is_in(used)).sort("doc_id")
    docs = docs.with_columns(
        pl.struct("title", "text")
        .map_elements(lambda r: content_hash(r["title"], r["text"]), return_dtype=pl.String)
        .alias("content_hash")
    ).select(list(DOCS))
    questions = pl.DataFrame(
        [(q, t, a, h) for q, t, a, h in picked],
        schema={**QUESTIONS, "hit": pl.Boolean},
        orient="row",
    )
    return PragInputs(questions, contexts, docs, len(picked) / max(tried, 1) if dp.require_hit
                      else float(np.mean([h for *_, h in picked])))  # fmt: skip
