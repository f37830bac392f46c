"""Reading answer options' log-probabilities into a label and an expected value (issue 12 part 3).

Shared by the relevance judges (issue 3) and the P1 authority judges. The rules:

- A log-prob of ``-inf`` means the option was not scored. The OpenAI chat path gives it to an
  option that is absent from the step's ``top_logprobs``: its true probability is below that of
  every listed alternative, so it is taken as 0.
- The scored (finite) options are renormalised among themselves. The argmax is then exact (an
  absent option is less likely than every listed one), and the expected value is the one under the
  answer being a scored option. A multi-token option already carries its summed log-probs.
- With no scored option, or with a NaN or ``+inf`` anywhere (that is not a log-probability: a
  broken model or server), there is no reading. :class:`UnscoredOptions` says why, and the caller
  records the row as an error: it is never a grade, and the label store asks again next run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


class UnscoredOptions(ValueError):
    """The options' log-probs give no reading (none scored, or a value that is no log-prob)."""


@dataclass(frozen=True)
class OptionReading:
    """Label probabilities of a scored prompt: argmax label, expected value, probabilities."""

    label: float
    expected: float
    probs: tuple[float, ...]


def unscored_reason(logprobs: np.ndarray) -> str | None:
    """Why ``logprobs`` (one per option) give no reading, or None when they do."""
    if np.isnan(logprobs).any():
        return "an option log-prob is NaN (the backend's scores are broken)"
    if np.isposinf(logprobs).any():
        return "an option log-prob is +inf (not a log-probability)"
    if not np.isfinite(logprobs).any():
        return "no option scored: all option log-probs are -inf"
    return None


def expected_value(logprobs: Sequence[float], values: Sequence[float]) -> OptionReading:
    """The scored options' log-probs renormalised into probabilities (unscored, -inf, ones get
    0); the label is the most probable option's value, the score the expected value. Raises
    UnscoredOptions when there is no reading (see the module docstring)."""
    lp = np.asarray(logprobs, dtype=np.float64)  # [n_options]
    if lp.shape != (len(values),):
        raise ValueError(f"{lp.size} log-probs for {len(values)} option values")
    reason = unscored_reason(lp)
    if reason is not None:
        raise UnscoredOptions(reason)
    p = np.exp(lp - lp.max())  # [n_options]; exp(-inf) = 0
    p /= p.sum()
    vals = np.asarray(values, dtype=np.float64)
    return OptionReading(float(vals[int(np.argmax(p))]), float(p @ vals), tuple(p.tolist()))
