"""P3 orchestration: a label regime's positives -> a trained bi-encoder -> its test-set scores
(PAPERS.md P3); the multipos table over the loss x regime grid is ``multipos_report``'s.

One variant = one loss under one label regime (``trustir.retrieval.regimes``), trained from
``multipos.train.model`` with BM25 hard negatives and scored with a dense run over the test
queries. For speed the evaluation may use a subset (``eval_set``): at most ``eval_max_queries``
test queries against their relevant documents, their top BM25 documents (hard distractors) and a
seeded sample of the corpus, up to ``eval_max_docs`` documents; the untrained model is scored on
the same subset (the baseline row).
Nothing here assumes the mini-world: a BEIR folder's ``qrels/train.tsv`` gives the human labels.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from trustir.evaluate.measures import evaluate_run, evaluation_qrels, min_rel_for
from trustir.io.atomic import write_parquet
from trustir.io.runlog import write_run_record
from trustir.io.stable import round_values, write_metrics
from trustir.retrieval.params import DenseParams
from trustir.retrieval.regimes import llm_source_of, positives_for_regime, positives_from
from trustir.retrieval.train_params import MultiposParams, TrainParams
from trustir.schema import QRELS
from trustir.sources.subset import stable_order

if TYPE_CHECKING:
    from trustir.params import Params
    from trustir.retrieval.train import TrainPhase

#: the row of the untrained model in the multipos tables.
BASELINE_ROW = "untrained"


def variant_name(loss: str, regime: str) -> str:
    """Folder name of a variant: ``data/train_retriever/<loss>-<regime>/``."""
    return f"{loss}-{regime}"


def row_name(loss: str, regime: str) -> str:
    """Row of a variant in ``metrics/multipos.json``: ``<loss>/<regime>``."""
    return f"{loss}/{regime}"


# -- training data ------------------------------------------------------------------------------
def label_qrels(qrels: pl.DataFrame, llm_qrels: pl.DataFrame) -> pl.DataFrame:
    """The fetched qrels (human labels among them) and the annotate stage's LLM qrels, stacked."""
    cast = [pl.col(c).cast(t) for c, t in QRELS.items()]
    return pl.concat([qrels.select(cast), llm_qrels.select(cast)])


def training_queries(
    queries: pl.DataFrame, labels: pl.DataFrame, mp: MultiposParams, min_rel: int
) -> pl.DataFrame:
    """The train queries every regime draws its positives from.

    ``same_queries``: only queries with a positive (grade ≥ ``min_rel``) under both the human
    and the LLM labels, so regimes differ by their labels alone. Then at most
    ``max_train_queries`` of them, in a seeded sha256 order (stable: a larger cap keeps them).
    """
    train = queries.filter(pl.col("split") == "train")
    ids = train["query_id"].to_list()
    if mp.same_queries:
        source = llm_source_of(labels, mp.llm_source)
        human = positives_from(labels, "human", ids, min_rel)
        llm = positives_from(labels, source, ids, min_rel)
        for name, found in (("human", human), (source, llm)):
            if not found:
                raise ValueError(f"no {name} positive (grade ≥ {min_rel}) on any train query")
        ids = sorted(set(human) & set(llm))
        if not ids:
            raise ValueError(
                "multipos.same_queries: no train query has both a human and an LLM positive "
                f"(grade ≥ {min_rel}); annotate more train queries or set same_queries: false"
            )
    if mp.max_train_queries is not None:
        ids = stable_order(ids, mp.train.seed)[: mp.max_train_queries]
    return train.filter(pl.col("query_id").is_in(ids))


def variant_train_params(mp: MultiposParams, loss: str) -> TrainParams:
    """``multipos.train`` with this variant's loss and its ``loss_options``."""
    return TrainParams.model_validate(
        {**mp.train.model_dump(), "loss": loss, "loss_options": mp.loss_options.get(loss, {})}
    )


def regime_phases(
    regime: str,
    queries: pl.DataFrame,
    labels: pl.DataFrame,
    bm25_run: pl.DataFrame | None,
    mp: MultiposParams,
    min_rel: int,
) -> list[TrainPhase]:
    """The training phases of ``regime``: positives from ``labels`` on :func:`training_queries`,
    hard negatives from ``bm25_run`` (after its top ``mp.skip_top`` ranks)."""
    from trustir.retrieval.train import build_train_phases

    chosen = training_queries(queries, labels, mp, min_rel)
    phases = positives_for_regime(
        regime,
        labels,
        chosen,
        min_rel=min_rel,
        ratio=mp.mixed_ratio,
        seed=mp.train.seed,
        llm_source=mp.llm_source,
        curriculum_share=mp.curriculum_share,
    )
    return build_train_phases(
        phases, queries, bm25_run, mp.train.hard_negatives, mp.train.epochs, mp.skip_top
    )


# -- evaluation ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class EvalSet:
    """What a variant is scored on: test queries, the documents searched, their ground truth."""

    queries: pl.DataFrame  # queries table, test split (a subset)
    corpus: pl.DataFrame  # corpus table (a subset)
    qrels: pl.DataFrame  # ground-truth qrels of those queries and documents

    def describe(self) -> str:
        return f"{self.queries.height} test queries against {self.corpus.height} documents"


def eval_set(
    corpus: pl.DataFrame,
    queries: pl.DataFrame,
    qrels: pl.DataFrame,
    max_queries: int | None,
    max_docs: int | None,
    seed: int,
    min_rel: int,
    pool: pl.DataFrame | None = None,
    pool_depth: int = 0,
) -> EvalSet:
    """The test queries with a judged document (at most ``max_queries``, seeded sha256 order)
    against a corpus subset: their relevant documents (grade ≥ ``min_rel``), the top
    ``pool_depth`` documents of each in the ``pool`` run (hard distractors, as NanoBEIR builds
    its corpora), then a seeded sample of the rest up to ``max_docs`` documents (relevant and
    pooled ones are kept even beyond it). Qrels are restricted to the kept queries and documents.
    ``max_docs`` None = the whole corpus; ``max_queries`` None = every judged test query.
    """
    gt = evaluation_qrels(qrels, queries)
    judged = gt.filter(pl.col("relevance") > 0)["query_id"].unique().to_list()
    if not judged:
        raise ValueError("no ground-truth qrels for test queries: nothing to evaluate")
    keep_q = judged if max_queries is None else stable_order(judged, seed)[:max_queries]
    gt = gt.filter(pl.col("query_id").is_in(keep_q))
    if max_docs is not None:
        keep = set(gt.filter(pl.col("relevance") >= min_rel)["doc_id"].to_list())
        if pool is not None and pool_depth > 0:
            top = pool.filter(pl.col("query_id").is_in(keep_q) & (pl.col("rank") <= pool_depth))
            keep |= set(top["doc_id"].to_list())
        rest = [d for d in corpus["doc_id"].to_list() if d not in keep]
        keep |= set(stable_order(rest, seed)[: max(0, max_docs - len(keep))])
        corpus = corpus.filter(pl.col("doc_id").is_in(sorted(keep)))
        gt = gt.filter(pl.col("doc_id").is_in(corpus["doc_id"].to_list()))
    test = queries.filter(pl.col("query_id").is_in(gt["query_id"].unique().to_list()))
    return EvalSet(test.sort("query_id"), corpus, gt)


@dataclass(frozen=True)
class Scores:
    """A model's scores on an eval set: mean per measure, per-query values, the run."""

    measures: dict[str, float]
    per_query: pl.DataFrame  # query_id, measure, value
    run: pl.DataFrame | None = None  # the dense run over EvalSet.queries
    info: dict[str, Any] = field(default_factory=dict)
    timing: dict[str, float] = field(default_factory=dict)  # per-run seconds: the run ledger


def score_model(
    model: str,
    ev: EvalSet,
    dense: DenseParams,
    measures: Sequence[str],
    min_rel: int,
    depth: int,
    name: str,
    pooling: str | None = None,
) -> Scores:
    """Dense run of ``model`` (an id, alias or saved dir) over ``ev`` with the ``dense``
    settings (max length, batch, faiss), then ``measures`` on ``ev.qrels``."""
    from trustir.retrieval.dense import dense_run

    settings = dense.model_copy(
        update={"model": model, "name": name, "pooling": pooling or dense.pooling}
    )
    run = dense_run(ev.corpus, ev.queries, settings, depth, show_progress=False)
    agg, per_query = evaluate_run(run, ev.qrels, measures, min_rel)
    return Scores(agg, per_query, run)


def baseline_scores(params: Params, ev: EvalSet) -> Scores:
    """The untrained ``multipos.train.model`` on ``ev`` (the table's baseline row)."""
    tp = params.multipos.train
    return score_model(
        tp.model,
        ev,
        params.index.dense,
        params.evaluate.measures,
        min_rel_for(params.evaluate, params.data.source),
        params.index.depth,
        BASELINE_ROW,
        tp.pooling,
    )


def params_eval_set(
    params: Params,
    corpus: pl.DataFrame,
    queries: pl.DataFrame,
    qrels: pl.DataFrame,
    bm25_run: pl.DataFrame | None,
) -> EvalSet:
    """:func:`eval_set` with the ``multipos.eval_*`` params, pooling from ``bm25_run``."""
    mp = params.multipos
    return eval_set(
        corpus,
        queries,
        qrels,
        mp.eval_max_queries,
        mp.eval_max_docs,
        mp.eval_seed,
        min_rel_for(params.evaluate, params.data.source),
        bm25_run,
        mp.eval_pool_depth,
    )


# -- one variant --------------------------------------------------------------------------------
def train_variant(
    loss: str,
    regime: str,
    tables: dict[str, pl.DataFrame],
    params: Params,
    out_dir: Path,
    show_progress: bool = True,
) -> Scores | None:
    """Train ``loss`` under ``regime``, save the model to ``out_dir/model`` and score it
    (None on a torchrun rank other than 0, which only trains).

    ``tables``: ``corpus``, ``queries``, ``qrels`` (fetched; human labels have source "human"),
    ``llm_qrels`` (the annotate stage's) and ``bm25_run`` (hard negatives).
    """
    from trustir.retrieval.train import corpus_text_map, train_biencoder

    mp, min_rel = params.multipos, min_rel_for(params.evaluate, params.data.source)
    labels = label_qrels(tables["qrels"], tables["llm_qrels"])
    phases = regime_phases(regime, tables["queries"], labels, tables["bm25_run"], mp, min_rel)
    tp = variant_train_params(mp, loss)
    result = train_biencoder(
        phases, corpus_text_map(tables["corpus"]), tp, Path(out_dir) / "model", None, show_progress
    )
    if result.model_dir is None:  # a torchrun rank other than 0: rank 0 saved and scores
        return None
    ev = params_eval_set(
        params, tables["corpus"], tables["queries"], tables["qrels"], tables["bm25_run"]
    )
    scores = score_model(
        str(result.model_dir),
        ev,
        params.index.dense,
        params.evaluate.measures,
        min_rel,
        params.index.depth,
        variant_name(loss, regime),
        tp.pooling,
    )
    info = {
        "loss": loss,
        "regime": regime,
        "phases": [{"name": p.name, "queries": len(p.queries), "epochs": p.epochs} for p in phases],
        "steps": result.steps,
        "examples": result.examples,
        "final_loss": result.final_loss,
        "eval": {"queries": ev.queries.height, "documents": ev.corpus.height},
    }
    timing = {"train_seconds": round(result.seconds, 2)}
    return Scores(scores.measures, scores.per_query, scores.run, info, timing)


def save_variant(scores: Scores, out_dir: Path) -> None:
    """Write ``run.parquet``, ``per_query.parquet`` and ``metrics.json`` beside ``model/``."""
    out_dir = Path(out_dir)
    if scores.run is not None:
        write_parquet(scores.run, out_dir / "run.parquet")
    write_parquet(round_values(scores.per_query), out_dir / "per_query.parquet")
    write_metrics({"measures": scores.measures, **scores.info}, out_dir / "metrics.json")
    write_run_record(out_dir, scores.timing)  # wall seconds: the git-ignored run ledger


def load_variant(out_dir: Path) -> Scores:
    """Read back what :func:`save_variant` wrote (the run is not read)."""
    out_dir = Path(out_dir)
    for name in ("metrics.json", "per_query.parquet"):
        if not (out_dir / name).exists():
            raise FileNotFoundError(f"{out_dir / name} is missing: run train_retriever first")
    meta = json.loads((out_dir / "metrics.json").read_text())
    measures = meta.pop("measures")
    return Scores(measures, pl.read_parquet(out_dir / "per_query.parquet"), None, meta)


def load_variants(
    train_dir: Path, losses: list[str], regimes: list[str]
) -> dict[tuple[str, str], Scores]:
    """Every (loss, regime) variant under ``train_dir`` (``data/train_retriever``), in the
    matrix's order: losses outer, regimes inner."""
    return {
        (loss, regime): load_variant(Path(train_dir) / variant_name(loss, regime))
        for loss in losses
        for regime in regimes
    }
