"""Reading the authority judges' answers (P1): expected scores from label probabilities
(:mod:`trustir.annotate.options`, shared with the relevance judges), both-order
debiasing of pair preferences, and parsers of generated rankings and ratings.

A parser never guesses: a ranking that misses an item is marked invalid (where the missing items
belong is unknown), a rating that is absent or off the scale is left missing. Repairs only drop
what cannot be meant (repeated ids, ids outside 1..k), and every repair is noted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from trustir.annotate.options import OptionReading, UnscoredOptions, expected_value

__all__ = [
    "ListScores",
    "OptionReading",
    "Permutation",
    "UnscoredOptions",
    "debias_preference",
    "debias_scores",
    "expected_value",
    "parse_list_scores",
    "parse_permutation",
    "position_scores",
]

_BRACKETED = re.compile(r"\[\s*(\d+)\s*\]")
_NUMBER = re.compile(r"(?<![\w.])(\d+)(?![\w]|\.\d)")
_LINE_SPLIT = re.compile(r"\n|(?=\[\s*\d+\s*\])")
_LINE_ID = re.compile(r"^\s*(?:\[\s*(\d+)\s*\]|(\d+)(?:\s*[:)=\-]|\.(?=\s)|(?=\s)))\s*")
_LAST_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(?:/\s*\d+)?\s*[.*]*\s*$")


def debias_preference(p_first_ab: float, p_first_ba: float) -> float:
    """P(a over b) from both orders: asked (a, b), the first-shown item (a) won with probability
    ``p_first_ab``; asked (b, a), the first-shown item (b) won with ``p_first_ba``. Averaging
    P(a) over the two positions cancels a constant position bias: a judge that always prefers
    the first slot with any probability q gives exactly 0.5."""
    return 0.5 * (p_first_ab + (1.0 - p_first_ba))


def debias_scores(a_first: float, a_second: float, b_first: float, b_second: float) -> tuple:
    """Each item's score averaged over its two positions (shown first, shown second)."""
    return 0.5 * (a_first + a_second), 0.5 * (b_first + b_second)


@dataclass(frozen=True)
class Permutation:
    """A parsed ranking: ``order`` lists item positions 1..k best first (None when invalid);
    ``status`` is valid, repaired (only impossible ids dropped) or invalid; ``notes`` say why."""

    order: tuple[int, ...] | None
    status: str
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.order is not None


def _ids(reply: str) -> list[int]:
    """The identifiers a reply names, in order: bracketed ones ("[3] > [1]") if it has any,
    else every standalone integer ("3, 1, 2"); digits inside words ("x7.info") never count."""
    bracketed = [int(m) for m in _BRACKETED.findall(reply)]
    return bracketed if bracketed else [int(m) for m in _NUMBER.findall(reply)]


def parse_permutation(reply: str, k: int) -> Permutation:
    """Read a ranking of ``k`` items (ids 1..k) from a reply.

    valid: every id exactly once. repaired: the same after dropping repeated ids (first kept)
    and ids outside 1..k. invalid: no id, or an id missing after repair — where a missing item
    belongs would be a guess, so none is made.
    """
    if k < 1:
        raise ValueError(f"k must be positive, got {k}")
    ids = _ids(reply)
    if not ids:
        return Permutation(None, "invalid", ("no identifiers in the reply",))
    notes: list[str] = []
    seen: list[int] = []
    for i in ids:
        if not 1 <= i <= k:
            notes.append(f"dropped {i} (outside 1..{k})")
        elif i in seen:
            notes.append(f"dropped repeated {i}")
        else:
            seen.append(i)
    missing = sorted(set(range(1, k + 1)) - set(seen))
    if missing:
        notes.append(f"missing {', '.join(map(str, missing))}: their places would be a guess")
        return Permutation(None, "invalid", tuple(notes))
    return Permutation(tuple(seen), "repaired" if notes else "valid", tuple(notes))


@dataclass(frozen=True)
class ListScores:
    """Ratings parsed from one reply: ``scores[i]`` for item position i+1 (None = not given)."""

    scores: tuple[float | None, ...]
    status: str  # valid (all given) | partial (some) | invalid (none)
    notes: tuple[str, ...] = ()


def parse_list_scores(reply: str, k: int, levels: int) -> ListScores:
    """Read "[i] rating" lines for items 1..k (also "i: rating", "i. name - rating"; several on
    one line when bracketed). A line's id is its leading number, its rating its last number.
    Ratings outside 1..levels and repeated ids are dropped; items not rated stay missing."""
    scores: list[float | None] = [None] * k
    notes: list[str] = []
    for line in _LINE_SPLIT.split(reply):
        head = _LINE_ID.match(line)
        if not head:
            continue
        rest = line[head.end() :]
        tail = _LAST_NUMBER.search(rest)
        if not tail:
            continue
        idx, value = int(head.group(1) or head.group(2)), float(tail.group(1))
        if not 1 <= idx <= k:
            notes.append(f"dropped id {idx} (outside 1..{k})")
        elif not 1 <= value <= levels:
            notes.append(f"dropped rating {tail.group(1)} of {idx} (outside 1..{levels})")
        elif scores[idx - 1] is not None:
            notes.append(f"dropped repeated {idx}")
        else:
            scores[idx - 1] = value
    given = sum(s is not None for s in scores)
    status = "valid" if given == k else "partial" if given else "invalid"
    if status != "valid":
        missing = [str(i + 1) for i, s in enumerate(scores) if s is None]
        notes.append(f"no rating for {', '.join(missing)}")
    return ListScores(tuple(scores), status, tuple(notes))


def position_scores(order: Sequence[int], k: int) -> list[float]:
    """Scores in [0, 1] per item position 1..k from a ranking: best 1, worst 0 (k=1: 1)."""
    out = [0.0] * k
    for rank, pos in enumerate(order):
        out[pos - 1] = 1.0 - rank / (k - 1) if k > 1 else 1.0
    return out
