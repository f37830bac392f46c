"""Typed ``ltr`` params of P8 (learning to rank from clicks vs LLM labels); light to import.

One section, ``ltr``, read by three stages: ``clicks`` (the query log, click models, frequency
buckets: ``ltr.log``, ``ltr.clicks``, ``ltr.buckets``), ``ltr_labels`` (LLM labels over the
buckets: ``ltr.labels``) and ``ltr`` (features, rankers, supervision, evaluation: the rest).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from trustir.section import Section


class ClickLogParams(Section):
    """The simulated query log (``trustir.sources.world.clicks``): who sees what, who clicks.

    A session shows ``list_size`` documents of the query's ``pool`` (a BM25-like ranking computed
    inside the facet): the top of it, or with probability ``explore`` a random sample of it in
    random order. The user scans top-down (a DBN cascade): examines a result, clicks it with its
    attractiveness, is satisfied by a clicked result with its satisfaction and stops, else goes on
    with probability ``continuation``.
    """

    #: sessions of a query = round(freq * this), at least 1, at most max_sessions_per_query.
    sessions_per_freq: float = Field(1.0, gt=0)
    max_sessions_per_query: int = Field(2000, gt=0)
    list_size: int = Field(10, gt=1)
    pool: int = Field(20, gt=1)
    explore: float = Field(0.3, ge=0, le=1)
    #: attractiveness by true grade 0, 1, 2, 3 (before the authority factor).
    attractiveness: list[float] = [0.05, 0.2, 0.55, 0.7]
    #: attractiveness x (1 + authority_boost * (level - 3)) for domain authority level 1..5.
    authority_boost: float = Field(0.15, ge=0, lt=0.5)
    #: P(satisfied | clicked) by true grade 0..3.
    satisfaction: list[float] = [0.0, 0.1, 0.4, 0.7]
    continuation: float = Field(0.9, gt=0, le=1)

    @model_validator(mode="after")
    def _four_grades(self) -> ClickLogParams:
        for name in ("attractiveness", "satisfaction"):
            vals = getattr(self, name)
            if len(vals) != 4 or not all(0 <= v <= 1 for v in vals):
                raise ValueError(f"{name} needs 4 probabilities (grades 0..3), got {vals}")
        if self.pool < self.list_size:
            raise ValueError(f"pool ({self.pool}) must be >= list_size ({self.list_size})")
        return self


class ClickModelParams(Section):
    """Click models fitted on the log (``trustir.ranking.clickmodels``) and their evaluation."""

    #: registered click models (``trustir.ranking.clickmodels``).
    models: list[str] = ["ctr", "pbm", "ubm", "sdbn"]
    #: the first share of each query's sessions (in log order) feeds the click *features*
    #: and is the click models' held-out test set; the rest fits the click models (labels).
    feature_share: float = Field(0.5, gt=0, lt=1)
    em_iterations: int = Field(50, gt=0)
    #: Beta pseudo-counts added to every estimated probability: (num + a) / (den + b).
    prior: tuple[float, float] = (1.0, 2.0)
    #: click qrels grade = how many of these quantiles of the model's estimates it reaches (0-3).
    grade_quantiles: list[float] = [0.5, 0.75, 0.9]
    #: the Yandex relevance-prediction sample (PyClick's condensed format: trainSample,
    #: testSample); relative to the repo root; null (the default: the repo reads nothing outside
    #: itself) = no Yandex evaluation. ``profiles/lab.yaml`` names the lab's copy.
    yandex: str | None = None
    yandex_max_sessions: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _known(self) -> ClickModelParams:
        from trustir.ranking.clickmodels.base import CLICK_MODELS

        CLICK_MODELS.check(self.models, "clicks.models")
        qs = self.grade_quantiles
        if not qs or any(not 0 < q < 1 for q in qs) or qs != sorted(qs):
            raise ValueError(f"grade_quantiles must increase within (0, 1), got {qs}")
        return self


class BucketParams(Section):
    """Frequency buckets: queries ranked by frequency, the top ``high`` share, the next
    ``medium`` share, the rest ``low`` (shares of queries, both splits together)."""

    high: float = Field(0.2, gt=0, lt=1)
    medium: float = Field(0.3, gt=0, lt=1)

    @model_validator(mode="after")
    def _sum(self) -> BucketParams:
        if self.high + self.medium >= 1:
            raise ValueError("buckets high + medium must leave a low share (< 1)")
        return self


class LlmLabelParams(Section):
    """LLM labels for LTR: the annotate stage's, plus more train queries judged per bucket."""

    #: the llm:<model> qrels of the annotate stage to extend; null = the only one present.
    llm_source: str | None = None
    #: at least this many train queries of each bucket get LLM labels (the annotate stage's
    #: queries count; more are drawn in a seeded order); 0 = the annotate stage's labels only.
    queries_per_bucket: int = Field(6, ge=0)
    #: the added queries' top ``depth`` BM25 documents are judged.
    depth: int = Field(4, gt=0)
    seed: int = 13


class LightGBMParams(Section):
    """LambdaMART (LightGBM ``lambdarank``)."""

    n_estimators: int = Field(150, gt=0)
    learning_rate: float = Field(0.05, gt=0)
    num_leaves: int = Field(15, gt=1)
    min_data_in_leaf: int = Field(10, gt=0)
    #: OpenMP threads (keep small: spinning threads on shared cores cost 50-100x).
    num_threads: int = Field(1, gt=0)
    seed: int = 13


class MLPParams(Section):
    """The neural ranker: an MLP scorer trained with a listwise loss (per ranker name)."""

    hidden: list[int] = [64, 32]
    epochs: int = Field(40, gt=0)
    lr: float = Field(0.003, gt=0)
    weight_decay: float = Field(0.0001, ge=0)
    #: queries per mini-batch (lists padded to the longest, masked).
    batch_queries: int = Field(16, gt=0)
    #: ApproxNDCG's sigmoid temperature (Qin et al. 2010 use alpha = 1/T = 10).
    temperature: float = Field(0.1, gt=0)
    num_threads: int = Field(1, gt=0)
    seed: int = 13


class FamolParams(Section):
    """FAMOL's per-query weight of the click loss: w = w_min on low-frequency queries, w_max on
    high-frequency ones, log-linear in frequency across the medium bucket."""

    w_min: float = Field(0.1, ge=0, le=1)
    w_max: float = Field(0.9, ge=0, le=1)


class LtrParams(Section):
    """P8: click log, click models, LLM labels, rankers x supervision, frequency buckets."""

    section_name: ClassVar[str] = "ltr"

    log: ClickLogParams = ClickLogParams()
    clicks: ClickModelParams = ClickModelParams()
    buckets: BucketParams = BucketParams()
    labels: LlmLabelParams = LlmLabelParams()
    #: candidates of a test query = its top ``depth`` BM25 documents, re-ranked.
    depth: int = Field(30, gt=1)
    #: whose estimates are the click labels (one of clicks.models).
    click_model: str = "pbm"
    #: include the click-log features (CTR, impressions from the feature share of the log).
    click_features: bool = True
    #: registered rankers (``trustir.ranking.rankers``).
    rankers: list[str] = ["lambdamart", "mlp-listnet", "mlp-approxndcg"]
    #: supervisions (``trustir.ranking.supervision``): one source, a schedule, or FAMOL.
    supervisions: list[str] = ["click", "llm", "click_then_llm", "llm_then_click", "famol"]
    #: schedules: the first source's share of the boosting rounds / epochs.
    schedule_share: float = Field(0.5, gt=0, lt=1)
    famol: FamolParams = FamolParams()
    lightgbm: LightGBMParams = LightGBMParams()
    mlp: MLPParams = MLPParams()
    #: bootstrap resamples of the paired confidence intervals in the report.
    bootstrap: int = Field(1000, gt=0)
    seed: int = 13

    @field_validator("rankers", "supervisions")
    @classmethod
    def _known_names(cls, names: list[str], info: ValidationInfo) -> list[str]:
        from trustir.ranking.rankers.base import RANKERS
        from trustir.ranking.supervision import SUPERVISIONS

        if not names:
            raise ValueError("must name at least one")
        (RANKERS if info.field_name == "rankers" else SUPERVISIONS).check(names)
        return names

    @model_validator(mode="after")
    def _fitted(self) -> LtrParams:
        if self.click_model not in self.clicks.models:
            raise ValueError(
                f"click_model {self.click_model!r} is not fitted (clicks.models: "
                f"{', '.join(self.clicks.models)})"
            )
        return self


Bucket = Literal["high", "medium", "low"]
BUCKETS: tuple[Bucket, ...] = ("high", "medium", "low")
