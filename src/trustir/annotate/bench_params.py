"""The ``judge_bench`` params section: which judges the bench scores, on which pooled pairs."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from trustir.section import Section


class JudgeBenchParams(Section):
    """The judge bench (issue 13): every judge on the same pooled train pairs."""

    section_name: ClassVar[str] = "judge_bench"

    #: registered judges (``trustir.annotate.judges``), each scored through the label store
    judges: list[str] = ["relevance", "query-likelihood"]
    #: pool: the first max_queries train queries (by id) that have truth labels, the union of
    #: the top `depth` documents of each run in `runs` (run scores are reference rows)
    max_queries: int = Field(30, gt=0)
    depth: int = Field(2, gt=0)
    runs: list[str] = ["bm25", "dense-minilm"]
    #: kappa's decisions: the top fraction of each query's pool, for every judge alike
    quantile: float = Field(0.3, gt=0, le=1)
    #: the calibrated row: logistic regression of this judge's score with the run scores,
    #: cross-fitted over `folds` query folds of the train labels; null = no such row
    calibrate: str | None = "query-likelihood"
    folds: int = Field(5, ge=2)
    seed: int = 0

    @field_validator("judges")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        from trustir.annotate.base import JUDGES

        for n in names:
            JUDGES.check(n, "judge_bench.judges")
        return names
