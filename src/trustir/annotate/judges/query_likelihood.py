"""Query likelihood: how probable the query is as a question written about the passage.

UPR (Sachan et al., 2022, "Improving Passage Retrieval with Zero-Shot Question Generation"): the
score of a (query, passage) pair is the mean log-probability of the query's tokens, teacher-forced
after "Passage: ... Please write a question based on this passage. Question:". A small model
cannot grade relevance in words, but it does know which questions a text raises (issue 13).
The score is length-normalised (mean over the query's tokens), so long and short queries compare;
it is no grade: ``annotate.grade_rule`` turns scores into grades.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from trustir.annotate.base import JUDGES, Judge, Verdict
from trustir.annotate.prompts import neutralise
from trustir.llm.base import LLMBackend

#: prompt variants (``annotate.query_likelihood.template``): (text before the query, chat?)
TEMPLATES: dict[str, tuple[str, bool]] = {
    # UPR's own prompt, as a plain LM prompt (no chat template)
    "upr": ("Passage: {doc}\nPlease write a question based on this passage.\nQuestion:", False),
    # the same instruction as a user turn; the query is the assistant's reply
    "upr-chat": ("Passage: {doc}\nPlease write a question based on this passage.", True),
    # a search-engine framing: the query a user typed to find this page
    "search": ("Web page: {doc}\nA search query that this page answers:", False),
}


@JUDGES.register("query-likelihood")
class QueryLikelihood(Judge):
    """Score = mean log P(query tokens | passage prompt); no label of its own."""

    name = "query-likelihood"
    task = "query-likelihood"
    system = ""
    instruction = ""
    options: ClassVar[tuple[str, ...]] = ()
    values: ClassVar[tuple[int, ...]] = ()
    output = "score"

    def __init__(self, template: str = "upr", max_chars: int = 1200, pmi: bool = False) -> None:
        if template not in TEMPLATES:
            raise ValueError(
                f"annotate.query_likelihood.template: unknown {template!r}; known: "
                f"{sorted(TEMPLATES)}"
            )
        self.template = template
        self.max_chars = max_chars
        #: subtract the query's log-prob after an empty passage (pointwise mutual information):
        #: a query that is likely anywhere gains nothing, so scores compare across queries
        self.pmi = pmi
        self._null: dict[str, dict[str, Verdict]] = {}  # model id -> query -> empty-passage verdict
        self.instruction, self.chat = TEMPLATES[template]

    @classmethod
    def from_params(cls, annotate: Any) -> QueryLikelihood:
        ql = annotate.query_likelihood
        return cls(template=ql.template, max_chars=ql.max_chars, pmi=ql.pmi)

    @property
    def prompt_hash(self) -> str:  # the template and the cut enter every label key
        from trustir.llm.store import template_hash

        return template_hash(self.name, self.instruction, self.chat, self.max_chars, self.pmi, 1)

    def prompt(self, query: str, doc: str, strict: bool = False) -> Any:
        text = self.instruction.format(doc=neutralise(doc.strip())[: self.max_chars])
        return [{"role": "user", "content": text}] if self.chat else text

    def continuation(self, query: str) -> str:
        """The query as the model should write it (a leading space after "Question:")."""
        q = query.strip()
        return q if self.chat else " " + q

    def tokens_in(self, backend: LLMBackend, query: str, doc: str) -> int:
        """Prompt plus query tokens (a plain prompt is counted by the backend's tokenizer)."""
        prompt = self.prompt(query, doc)
        tokenizer = getattr(backend, "tokenizer", None)
        if self.chat or tokenizer is None:
            return backend.count_tokens(prompt) + len(query.split())
        return len(tokenizer.encode(prompt + self.continuation(query), add_special_tokens=False))

    def score_batch(self, backend: LLMBackend, items: Sequence[Mapping[str, str]]) -> list[Verdict]:
        prompts = [self.prompt(it["query"], it["doc"]) for it in items]
        conts = [self.continuation(it["query"]) for it in items]
        per_token = backend.continuation_logprobs(prompts, conts, chat=self.chat)
        verdicts = [self.from_token_logprobs(lp) for lp in per_token]
        if not self.pmi:
            return verdicts
        base = self.null_scores(backend, [it["query"] for it in items])
        return [
            self.minus_null(v, base[it["query"]]) for v, it in zip(verdicts, items, strict=True)
        ]

    def null_scores(self, backend: LLMBackend, queries: Sequence[str]) -> dict[str, Verdict]:
        """Each query's verdict after an empty passage; computed once per query and backend
        model (one call each), remembered for the judge's later batches."""
        memo = self._null.setdefault(backend.model_id, {})
        todo = sorted({q for q in queries if q not in memo})
        if todo:
            empty = self.prompt("", "")
            lps = backend.continuation_logprobs(
                [empty] * len(todo), [self.continuation(q) for q in todo], chat=self.chat
            )
            memo.update({q: self.from_token_logprobs(lp) for q, lp in zip(todo, lps, strict=True)})
        return {q: memo[q] for q in queries}

    @staticmethod
    def minus_null(verdict: Verdict, null: Verdict) -> Verdict:
        """PMI: the pair's mean log-prob minus the query's after an empty passage."""
        if verdict.status != "ok" or null.status != "ok":
            return verdict if verdict.status != "ok" else null
        return Verdict(None, verdict.score - null.score, f"{verdict.raw},null={null.score:.4f}")

    @staticmethod
    def from_token_logprobs(lp: np.ndarray) -> Verdict:
        """Score = the mean of the query's token log-probs; an empty or non-finite one is an
        error row (asked again next run), never a score."""
        lp = np.asarray(lp, dtype=np.float64)  # [n_tokens]
        if lp.size == 0 or not np.isfinite(lp).all():
            return Verdict(None, None, f"error: query log-probs {lp.tolist()}", "error")
        mean = float(lp.mean())
        return Verdict(label=None, score=mean, raw=f"sum={lp.sum():.4f},n={lp.size}")
