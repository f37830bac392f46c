"""The judge interface: a template, the options it scores, how a label is read from a reply."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

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
    parser_version: ClassVar[int] = 1

    def prompt(self, query: str, doc: str, strict: bool = False) -> list[dict[str, str]]:
        raise NotImplementedError

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

    def from_logprobs(self, logprobs: Sequence[float]) -> Verdict:
        """Label = the most probable option; score = the expected value under the options'
        renormalised probabilities."""
        lp = np.asarray(logprobs, dtype=np.float64)  # [n_options]
        if not np.all(np.isfinite(lp)):
            lp = np.where(np.isfinite(lp), lp, -1e9)
        p = np.exp(lp - lp.max())
        p /= p.sum()
        label = self.values[int(np.argmax(p))]
        expected = float(np.dot(p, np.asarray(self.values, dtype=np.float64)))
        raw = ",".join(f"{o}:{v:.4f}" for o, v in zip(self.options, lp, strict=True))
        return Verdict(label=label, score=expected, raw=raw)

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


def get_judge(name: str) -> Judge:
    """A new instance of the registered judge called ``name``."""
    return JUDGES.get(name)()
