"""Label regimes of P3: which positives D+ each training query gets, in one or more phases.

A regime turns qrels into ``list[LabelPhase]`` (PAPERS.md P3, "Regimes"):
- ``human``: the sparse single-positive labels (qrels source ``"human"``) of the train queries;
- ``llm``: the multi-positive LLM labels (source ``"llm:<model>"``);
- ``mixed``: a per-query mixture: a seeded fraction ``ratio`` of the train queries takes its LLM
  positives, the rest their human ones (a query whose drawn source has no positive ≥ ``min_rel``
  falls back to the other source). A split rather than a union, so that ``ratio`` sweeps from
  all-human (0) to all-LLM (1) at a constant number of training queries;
- ``curriculum``: two phases, LLM labels for a ``curriculum_share`` of the epochs, then human.
Positives are ordered by grade (highest first), then doc id: the first is InfoNCE's positive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from trustir.registry import Registry

#: query_id -> [(doc_id, grade), ...], best first.
Positives = dict[str, list[tuple[str, int]]]


@dataclass(frozen=True)
class LabelPhase:
    """The positives of one training phase and its share of the epochs."""

    name: str
    positives: Positives
    share: float = 1.0


RegimeFn = Callable[..., list[LabelPhase]]
REGIMES: Registry[RegimeFn] = Registry("label regime")


def llm_source_of(qrels: pl.DataFrame, llm_source: str | None = None) -> str:
    """The LLM qrels source to use: ``llm_source`` if given, else the only ``llm:*`` present."""
    sources = sorted(s for s in qrels["source"].unique().to_list() if s.startswith("llm:"))
    if llm_source is not None:
        if llm_source not in sources:
            raise ValueError(f"no qrels with source {llm_source!r}; LLM sources: {sources}")
        return llm_source
    if len(sources) != 1:
        raise ValueError(f"name one LLM qrels source (llm_source); found {sources or 'none'}")
    return sources[0]


def train_query_ids(queries: pl.DataFrame) -> list[str]:
    return sorted(queries.filter(pl.col("split") == "train")["query_id"].to_list())


def positives_from(
    qrels: pl.DataFrame, source: str, query_ids: list[str], min_rel: int
) -> Positives:
    """Positives (grade ≥ ``min_rel``) of ``source`` for the given queries, best first."""
    rows = (
        qrels.filter(
            (pl.col("source") == source)
            & (pl.col("relevance") >= min_rel)
            & pl.col("query_id").is_in(query_ids)
        )
        .group_by("query_id", "doc_id")
        .agg(pl.col("relevance").max())
        .sort(["query_id", "relevance", "doc_id"], descending=[False, True, False])
    )
    out: Positives = {}
    for qid, did, rel in rows.iter_rows():
        out.setdefault(qid, []).append((did, int(rel)))
    return out


@REGIMES.register("human")
def human(
    qrels: pl.DataFrame, queries: pl.DataFrame, *, min_rel: int, **_: object
) -> list[LabelPhase]:
    return [LabelPhase("human", positives_from(qrels, "human", train_query_ids(queries), min_rel))]


@REGIMES.register("llm")
def llm(
    qrels: pl.DataFrame,
    queries: pl.DataFrame,
    *,
    min_rel: int,
    llm_source: str | None = None,
    **_: object,
) -> list[LabelPhase]:
    source = llm_source_of(qrels, llm_source)
    return [LabelPhase("llm", positives_from(qrels, source, train_query_ids(queries), min_rel))]


@REGIMES.register("mixed")
def mixed(
    qrels: pl.DataFrame,
    queries: pl.DataFrame,
    *,
    min_rel: int,
    ratio: float = 0.5,
    seed: int = 13,
    llm_source: str | None = None,
    **_: object,
) -> list[LabelPhase]:
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"mixed: ratio (the LLM share of queries) must be in [0, 1], got {ratio}")
    qids = train_query_ids(queries)
    hum = positives_from(qrels, "human", qids, min_rel)
    lm = positives_from(qrels, llm_source_of(qrels, llm_source), qids, min_rel)
    labelled = sorted(set(hum) | set(lm))
    order = np.random.default_rng(seed).permutation(len(labelled))  # seeded choice of queries
    use_llm = {labelled[i] for i in order[: int(round(ratio * len(labelled)))]}
    out: Positives = {}
    for qid in labelled:
        first, second = (lm, hum) if qid in use_llm else (hum, lm)
        out[qid] = first.get(qid) or second[qid]
    return [LabelPhase("mixed", out)]


@REGIMES.register("curriculum")
def curriculum(
    qrels: pl.DataFrame,
    queries: pl.DataFrame,
    *,
    min_rel: int,
    llm_source: str | None = None,
    curriculum_share: float = 0.5,
    **_: object,
) -> list[LabelPhase]:
    if not 0.0 < curriculum_share < 1.0:
        raise ValueError(f"curriculum_share must be in (0, 1), got {curriculum_share}")
    (first,) = llm(qrels, queries, min_rel=min_rel, llm_source=llm_source)
    (second,) = human(qrels, queries, min_rel=min_rel)
    return [
        LabelPhase("llm", first.positives, curriculum_share),
        LabelPhase("human", second.positives, 1.0 - curriculum_share),
    ]


def positives_for_regime(
    regime: str,
    qrels: pl.DataFrame,
    queries: pl.DataFrame,
    *,
    min_rel: int,
    ratio: float = 0.5,
    seed: int = 13,
    llm_source: str | None = None,
    curriculum_share: float = 0.5,
) -> list[LabelPhase]:
    """The label phases of ``regime`` (human | llm | mixed | curriculum) on the train queries.

    One phase for every regime but ``curriculum`` (two). ``min_rel``: lowest grade counted as a
    positive; ``ratio``: LLM share of the queries in ``mixed``; ``seed``: which queries those are;
    ``llm_source``: the ``llm:<model>`` qrels to use (default: the only one present).
    """
    phases = REGIMES.get(regime)(
        qrels,
        queries,
        min_rel=min_rel,
        ratio=ratio,
        seed=seed,
        llm_source=llm_source,
        curriculum_share=curriculum_share,
    )
    for phase in phases:
        if not phase.positives:
            raise ValueError(f"regime {regime!r}: phase {phase.name!r} has no positive labels")
    return phases
