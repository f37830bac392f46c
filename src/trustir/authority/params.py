"""Typed ``authority`` params (P1 AuthorityBench); bench and judge names are checked against
their registries (``trustir.authority.sources``, ``trustir.annotate.authority``: no torch)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from trustir.section import Section


class PageRankParams(Section):
    """Power iteration of the DomainAuth ground truth (networkx's conventions)."""

    damping: float = Field(0.85, ge=0, lt=1)
    #: stop when the L1 change is below n * tol
    tol: float = Field(1e-12, gt=0)
    max_iter: int = Field(1000, gt=0)


class SampleParams(Section):
    """What each bench's judges are asked about (seeded; more items keep the earlier ones)."""

    #: items per bench, spread evenly over the levels (point and list judges see all of them)
    items: int = Field(10, ge=4)
    #: pairs per bench among those items: half easy, half hard (pair judges ask both orders)
    pairs: int = Field(6, ge=2)
    #: easy pairs: level gap >= easy_gap; hard pairs: level gap 1..hard_gap
    easy_gap: int = Field(3, ge=2)
    hard_gap: int = Field(1, ge=1)
    #: items per ListJudge list (at most 9: ids are single digits in the replies)
    list_size: int = Field(5, ge=2, le=9)
    seed: int = 13

    @model_validator(mode="after")
    def _gaps(self) -> SampleParams:
        if self.hard_gap >= self.easy_gap:
            raise ValueError(f"hard_gap ({self.hard_gap}) must be below easy_gap ({self.easy_gap})")
        return self


class RagAuthParams(Section):
    """RAGAuth: yes/no questions over world facts, documents of mixed authority (drawn from
    the world's own ``qa`` stream, seeded by ``data.seed``)."""

    #: questions (half true claims, half false ones that a low-authority page states)
    questions: int = Field(8, ge=2)
    #: documents retrieved per question (at least one right and one wrong)
    top_k: int = Field(4, ge=2)
    #: judged / oracle conditions keep this many of them, by judged / true authority
    keep: int = Field(2, ge=1)
    #: the judge whose scores of the documents' domains rank them (without page text)
    filter_judge: Literal["point/point_score", "point/verbal"] = "point/point_score"
    #: characters of each document's snippet (title + the sentences that state the fact)
    snippet_chars: int = Field(200, ge=40)

    @model_validator(mode="after")
    def _keep(self) -> RagAuthParams:
        if self.keep >= self.top_k:
            raise ValueError(f"keep ({self.keep}) must be below top_k ({self.top_k})")
        return self


class AuthorityParams(Section):
    """AuthorityBench (P1): benches x judges x with/without page text, and RAGAuth."""

    section_name: ClassVar[str] = "authority"

    #: world-domains | world-entities (the mini-world of `data`) | tranco | majestic | moz
    #: (real domain lists, names only) | mace | popqa (real entities)
    benches: list[str] = ["world-domains", "world-entities"]
    #: <judge>/<format> (trustir.annotate.authority)
    judges: list[str] = [
        "point/point_score",
        "point/verbal",
        "pair/preference",
        "pair/point_score",
        "list/permutation",
        "list/point_score",
    ]
    #: judge without page text (notext) and with it (text; benches without text skip it)
    text: list[Literal["notext", "text"]] = ["notext", "text"]
    #: ground-truth levels and the rating scale of the judges: 5 or 10 points
    levels: Literal[5, 10] = 5
    #: characters of page text shown per item (world: hosted pages / a description)
    text_chars: int = Field(120, ge=20)
    #: the folder of the real lists (tranco, majestic, moz, mace, popqa), relative to the repo
    #: root; null (the default: the repo reads nothing outside itself) = world benches only.
    #: ``profiles/lab.yaml`` and ``profiles/study.yaml`` name the lab's ``../shared/data``.
    shared_data: str | None = None
    #: generated answers (ListJudge): one stricter retry when a reply cannot be used (off by
    #: default: it doubles the cost of lists and rarely helps SmolLM2-135M)
    retry: bool = False
    pagerank: PageRankParams = PageRankParams()
    sample: SampleParams = SampleParams()
    ragauth: RagAuthParams = RagAuthParams()

    @model_validator(mode="after")
    def _known(self) -> AuthorityParams:
        from trustir.annotate.authority import AUTHORITY_JUDGES
        from trustir.authority.sources import BENCHES

        for key, names, registry in (
            ("benches", self.benches, BENCHES),
            ("judges", self.judges, AUTHORITY_JUDGES),
        ):
            registry.check(names, f"authority.{key}")
            if len(set(names)) != len(names) or not names:
                raise ValueError(f"authority.{key} must be distinct and at least one")
        if self.sample.easy_gap > self.levels - 1:
            raise ValueError(f"sample.easy_gap {self.sample.easy_gap} exceeds levels - 1")
        return self
