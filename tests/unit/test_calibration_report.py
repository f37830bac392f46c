"""The calibration table from stage-shaped inputs: every method x column, cells = per-question
means, correctness by the named rule, SCA min-max normalised."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from trustir.calibration.collect import PTRUE, SAMPLES
from trustir.calibration.params import CalibrationParams, QAParams
from trustir.calibration.qa import QA
from trustir.calibration.report import calibrate


def inputs() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    qa_rows, s_rows, p_rows = [], [], []
    for i, (k, answer) in enumerate([(1, "Ada"), (1, "Bob"), (2, "Cy"), (2, "Dee is it")]):
        qid = f"q{i}"
        refs = ["Ada", "Cy", "Dee"][: k + 1]
        qa_rows.append((qid, "Q?", refs, k, None, None, [], "fit" if i % 2 else "test"))
        for kind in ("answer", "verbalized", "topk"):
            text = answer if kind == "answer" else f"{answer} | 0.{i + 5}"
            s_rows.append((qid, kind, "greedy", text, [text], [-0.2 * (i + 1)], -0.2 * (i + 1)))
            if kind != "topk":
                for j in range(3):
                    t = answer if j < i else "Zed"
                    s_rows.append((qid, kind, str(j), t, [t], [-0.1 * (j + 1)], -0.1 * (j + 1)))
        p_rows.append((qid, answer, np.log(0.2 + 0.2 * i), np.log(0.5)))
    return (
        pl.DataFrame(qa_rows, schema=QA, orient="row"),
        pl.DataFrame(s_rows, schema=SAMPLES, orient="row"),
        pl.DataFrame(p_rows, schema=PTRUE, orient="row"),
    )


def embed(texts: list[str]) -> np.ndarray:
    return np.array([[1.0, 0.0] if t == "zed" else [0.0, 1.0 + len(t) / 100] for t in texts])


@pytest.mark.parametrize("rule,accuracy", [("exact", 0.5), ("contains", 0.75)])
def test_table_cells_are_per_question_means(rule: str, accuracy: float) -> None:
    qa, samples, ptrue = inputs()
    params = CalibrationParams(qa=QAParams(counts=[1, 2]), match=rule)
    rep = calibrate(samples, ptrue, qa, params, embed, "t", None)
    cells = rep.table.cells
    assert list(cells) == list(params.methods)
    for name, row in cells.items():
        assert {"ece", "ece/1", "ece/2", "auroc", "brier", "accuracy", "confidence"} <= set(row)
        pq = rep.table.per_query.filter(pl.col("row") == name)
        for col, v in row.items():
            if v is not None:
                got = pq.filter(pl.col("column") == col)["value"].mean()
                assert got == pytest.approx(v), (name, col)
    # greedy answers Ada ✓, Bob ✗, Cy ✓, "Dee is it" (✓ only by contains)
    assert cells["sequence_probability"]["accuracy"] == accuracy
    assert cells["p_true"]["confidence"] == pytest.approx(np.mean([0.2 / 0.7, 0.4 / 0.9, 0.6 / 1.1,
                                                                    0.8 / 1.3]))  # fmt: skip
    sca = rep.judged.filter(pl.col("method") == "sca")["confidence"].to_list()
    assert min(sca) == 0.0 and max(sca) == 1.0  # min-max over all questions
