"""Helpers the confidence methods share (not a method)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from trustir.calibration.items import answer_text
from trustir.calibration.prompts import parse_verbalized
from trustir.calibration.qa import normalize

#: the confidence of a verbalized reply whose number cannot be read (uninformative)
UNPARSED = 0.5


def key(text: str) -> str:
    """An answer's identity for lexical comparison (SQuAD-normalised first line)."""
    return normalize(answer_text(text))


def verbal(texts: Sequence[str]) -> list[tuple[str, float]]:
    """(answer, confidence) of each verbalized reply (unreadable confidence: ``UNPARSED``)."""
    out = []
    for t in texts:
        ans, conf = parse_verbalized(t)
        out.append((ans, UNPARSED if conf is None else conf))
    return out


def majority(answers: Sequence[str]) -> str:
    """The most frequent normalised answer (ties: the first seen); returns its first spelling."""
    keys = [normalize(a) for a in answers]
    counts = Counter(keys)
    best = max(dict.fromkeys(keys), key=lambda k: counts[k])
    return answers[keys.index(best)]
