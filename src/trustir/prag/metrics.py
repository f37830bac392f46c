"""P9's answer metrics: exact match, token F1 and answer-contained (SQuAD normalisation).

EM and "contains" are the calibration area's rules (``trustir.calibration.qa.is_correct``);
F1 is SQuAD's token F1 against the best-matching reference.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import polars as pl

from trustir.calibration.qa import is_correct, normalize

MEASURES = ("em", "f1", "contains")


def token_f1(answer: str, references: Sequence[str]) -> float:
    """The best SQuAD token F1 of ``answer`` against any reference (0 when either is empty)."""
    pred = normalize(answer).split()
    best = 0.0
    for ref in references:
        gold = normalize(ref).split()
        common = sum((Counter(pred) & Counter(gold)).values())
        if not pred or not gold or common == 0:
            continue
        p, r = common / len(pred), common / len(gold)
        best = max(best, 2 * p * r / (p + r))
    return best


def score_answers(answers: pl.DataFrame, questions: pl.DataFrame) -> pl.DataFrame:
    """``answers`` with em, f1 and contains (0/1 floats) per row."""
    refs = dict(questions.select("qid", "answers").iter_rows())
    rows = []
    for qid, answer in answers.select("qid", "answer").iter_rows():
        gold = refs[qid]
        rows.append((
            float(is_correct(answer, gold, "exact")), token_f1(answer, gold),
            float(is_correct(answer, gold, "contains")),
        ))  # fmt: skip
    scores = pl.DataFrame(rows, schema=dict.fromkeys(MEASURES, pl.Float64), orient="row")
    return pl.concat([answers, scores], how="horizontal")
