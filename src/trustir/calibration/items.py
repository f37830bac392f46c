"""One question's evidence for the confidence methods: its samples, replies and clusters."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sample:
    """One generated reply: its text and its tokens' log-probabilities."""

    text: str
    token_logprobs: tuple[float, ...] = ()

    @property
    def logprob(self) -> float:
        return float(sum(self.token_logprobs))


@dataclass
class Item:
    """Everything the methods read about one question.

    ``clusters`` holds a semantic cluster id per sample and ``greedy_cluster`` the greedy
    answer's (filled by :func:`trustir.calibration.clusters.assign`).
    """

    qid: str
    greedy: Sample
    samples: list[Sample]
    verbalized: str = ""
    verbalized_samples: list[str] = field(default_factory=list)
    topk: str = ""
    logp_yes: float = float("-inf")
    logp_no: float = float("-inf")
    clusters: list[int] = field(default_factory=list)
    greedy_cluster: int = -1


def answer_text(text: str) -> str:
    """The answer a reply gives: its first non-empty line, stripped."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""
