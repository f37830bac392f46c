"""The judge interface: a template, the options it scores, how a label is read from a reply."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from trustir.annotate.options import UnscoredOptions, expected_value
from trustir.llm.base import LLMBackend, Prompt
from trustir.llm.store import template_hash
from trustir.registry import Registry

JUDGES: Registry[type[Judge]] = Registry("judge", autoload="trustir.annotate.judges")


@dataclass(frozen=True)
class Verdict:
    """One judged item: an integer label (None when unreadable), a score, the evidence, a status."""

    label: int | None
    score: float | None
    raw: str
    status: str = "ok"  # ok | unparseable | error


class Judge:
    """A judge of (query, document) pairs with a fixed set of answer options.

    ``prompt`` builds chat messages; ``from_logprobs`` reads the label from the options'
    log-probabilities (the default path: SmolLM2-size models answer more reliably through
    probabilities than through text); ``parse`` reads it from a generated reply, and
    ``strict_prompt`` is the one retry for a reply that could not be parsed.
    """

    name: ClassVar[str]
    task: ClassVar[str]
    system: ClassVar[str]
    instruction: ClassVar[str]
    options: ClassVar[tuple[str, ...]]
    values: ClassVar[tuple[int, ...]]  # the label each option stands for
    #: part of ``prompt_hash`` and so of every label key. 2: an answer with no scored option is
    #: an error, no longer the first option (issue 12); rows stored by version 1 are re-judged.
    parser_version: ClassVar[int] = 2

    #: "options": the label is read from the options' probabilities (``from_logprobs``);
    #: "score": the judge yields a real-valued score only, graded by ``annotate.grade_rule``.
    output: ClassVar[str] = "options"

    @classmethod
    def from_params(cls, annotate: Any) -> Judge:
        """An instance configured by the ``annotate`` section (the default takes no options)."""
        return cls()

    def prompt(self, query: str, doc: str, strict: bool = False) -> Prompt:
        raise NotImplementedError

    def score_batch(self, backend: LLMBackend, items: Sequence[Mapping[str, str]]) -> list[Verdict]:
        """Verdicts of ``items`` (each with "query" and "doc") through ``backend``'s option
        scoring; a judge with another scoring path overrides this."""
        prompts = [self.prompt(it["query"], it["doc"]) for it in items]
        lp = backend.score(prompts, self.options)  # [len(items), n_options]
        return [self.from_logprobs(row) for row in lp]

    @property
    def prompt_hash(self) -> str:
        """Hash of everything that shapes the prompt or the reading of the answer."""
        return template_hash(
            self.name,
            self.system,
            self.instruction,
            self.options,
            self.values,
            self.parser_version,
            self.prompt("{query}", "{doc}"),
        )

    def tokens_in(self, backend: LLMBackend, query: str, doc: str) -> int:
        """Prompt tokens of one item as the label row records them."""
        return backend.count_tokens(self.prompt(query, doc))

    def from_logprobs(self, logprobs: Sequence[float]) -> Verdict:
        """Label = the most probable option; score = the expected value under the options'
        renormalised probabilities (:func:`trustir.annotate.options.expected_value`).

        An option at -inf was not scored (the OpenAI chat path gives it to an option absent from
        ``top_logprobs``); the scored options are renormalised among themselves, so the unscored
        one counts as probability 0 (it is less likely than every listed alternative: the argmax
        stands). With no option scored, or a NaN/+inf log-prob, there is no label: the verdict
        has status ``error`` and the reason, no label and no score, never a default grade (the
        label store asks again next run).
        """
        lp = np.asarray(logprobs, dtype=np.float64)  # [n_options]
        raw = ",".join(f"{o}:{v:.4f}" for o, v in zip(self.options, lp, strict=True))
        try:
            reading = expected_value(lp, self.values)
        except UnscoredOptions as exc:
            return Verdict(label=None, score=None, raw=f"error: {exc} ({raw})", status="error")
        label = self.values[int(np.argmax(reading.probs))]
        return Verdict(label=label, score=reading.expected, raw=raw)

    def parse(self, reply: str) -> Verdict:
        """Read the label from the model's reply only (the prompt is never parsed)."""
        raise NotImplementedError


def first_option(reply: str, options: Sequence[str]) -> str | None:
    """The option the reply opens with (after an optional 'Answer:'/'Score:' lead-in), if any."""
    text = reply.strip().strip("*#`\"' ").lower()
    text = re.sub(r"^(answer|score|grade|relevance|label)\s*[:=\-]?\s*", "", text)
    for opt in sorted(options, key=len, reverse=True):
        o = opt.lower()
        if text.startswith(o) and (len(text) == len(o) or not text[len(o)].isalnum()):
            return opt
    return None


def get_judge(name: str, annotate: Any | None = None) -> Judge:
    """A new instance of the registered judge called ``name`` (configured by ``annotate``, an
    :class:`~trustir.annotate.params.AnnotateParams`, when given)."""
    cls = JUDGES.get(name)
    return cls() if annotate is None else cls.from_params(annotate)
