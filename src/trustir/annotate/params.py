"""The ``annotate`` params section: LLM relevance annotation of pooled candidates (issue 3)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from trustir.section import Section


class QueryLikelihoodParams(Section):
    """The query-likelihood judge's prompt (``trustir.annotate.judges.query_likelihood``)."""

    #: upr (UPR's plain prompt) | upr-chat (as a user turn) | search (a web-page framing)
    template: str = "upr-chat"
    #: the passage is cut at this many characters
    max_chars: int = Field(1200, gt=0)
    #: subtract the query's mean log-prob after an empty passage (PMI; scores then compare
    #: across queries, which a pooled threshold or AUC needs)
    pmi: bool = True


class AnnotateParams(Section):
    """LLM relevance annotation of pooled candidates (issue 3); the LLM itself is ``llm``."""

    section_name: ClassVar[str] = "annotate"

    #: a registered judge (``trustir.annotate.judges``): query-likelihood (UPR-style scores,
    #: the judge bench's best on the world and SciFact, issue 13) | relevance (graded 0-3) |
    #: relevance-binary (yes/no) | p-true (P(True) of "the passage answers the query")
    judge: str = "query-likelihood"
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
    #: how a judge's scores become LLM-qrel grades (recorded in the labels' grade_rule column):
    #: auto = threshold for judges with labels, quantile for judges that yield only scores;
    #: threshold = as ``threshold`` above (null there = the label); label = the judge's label;
    #: quantile = per query, the top ``quantile`` fraction of its pooled pairs by score (at
    #: least one) get grade evaluate.min_rel, the others 0 (judges that yield only scores, such
    #: as query-likelihood, need threshold or quantile)
    grade_rule: Literal["auto", "threshold", "label", "quantile"] = "auto"
    quantile: float = Field(0.3, gt=0, le=1)
    query_likelihood: QueryLikelihoodParams = QueryLikelihoodParams()
    #: labels committed to the label store every this many items (a killed run resumes)
    flush_every: int = Field(32, gt=0)
    #: the label store (SQLite); null = the per-user cache ($TRUSTIR_CACHE/labels)
    store: str | None = None

    @property
    def rule(self) -> str:
        """The grade rule in force (``auto`` resolved by the judge's output)."""
        if self.grade_rule != "auto":
            return self.grade_rule
        from trustir.annotate.base import JUDGES

        return "quantile" if JUDGES.get(self.judge).output == "score" else "threshold"

    @field_validator("judge")
    @classmethod
    def _known_judge(cls, name: str) -> str:
        from trustir.annotate.base import JUDGES

        JUDGES.check(name)
        return name

    @model_validator(mode="after")
    def _judge_supports_mode(self) -> AnnotateParams:
        from trustir.annotate.base import JUDGES, Judge

        cls = JUDGES.get(self.judge)
        if self.mode == "generate" and cls.parse is Judge.parse:
            raise ValueError(f"judge {self.judge!r} cannot parse replies: use mode 'score'")
        if cls.output == "score" and (
            self.rule == "label" or (self.rule == "threshold" and self.threshold is None)
        ):
            raise ValueError(
                f"judge {self.judge!r} yields scores, no labels: set annotate.grade_rule to "
                "quantile, or threshold with a number in annotate.threshold"
            )
        return self
