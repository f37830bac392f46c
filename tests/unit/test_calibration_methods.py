"""Contract test: every confidence method on one fixed question, against hand-worked values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trustir.calibration.clusters import cluster_ids
from trustir.calibration.items import Item, Sample
from trustir.calibration.methods import METHODS
from trustir.calibration.params import DEFAULT_METHODS, CalibrationParams, ScaParams
from trustir.calibration.prompts import parse_confidence, parse_topk, parse_verbalized
from trustir.calibration.qa import is_correct, normalize
from trustir.calibration.report import minmax

E = math.exp


def item() -> Item:
    """Greedy "Ada Lovelace" (log-prob -1 over 2 tokens); five samples, clusters given:
    s0 "Ada Lovelace" -1 (2 tokens) c0; s1 "ada lovelace." -3 (3) c0; s2 "Countess Lovelace"
    -2 (1) c0; s3 = s0 repeated; s4 "Grace Hopper" -3 (2) c1."""
    samples = [
        Sample("Ada Lovelace", (-0.5, -0.5)),
        Sample("ada lovelace.", (-1.0, -1.0, -1.0)),
        Sample("Countess Lovelace", (-2.0,)),
        Sample("Ada Lovelace", (-0.5, -0.5)),
        Sample("Grace Hopper", (-1.5, -1.5)),
    ]
    return Item(
        qid="q1",
        greedy=Sample("Ada Lovelace", (-0.5, -0.5)),
        samples=samples,
        verbalized="Ada Lovelace | 0.8",
        verbalized_samples=[
            "Ada Lovelace | 0.9",
            "ada lovelace | 0.5",
            "Grace Hopper | 0.6",
            "Ada Lovelace",  # no number: counts 0.5
        ],
        topk="1. Ada Lovelace | 70%\n2. Grace Hopper | 0.2",
        logp_yes=math.log(0.3),
        logp_no=math.log(0.1),
        clusters=[0, 0, 0, 0, 1],
        greedy_cluster=0,
    )


EXPECTED = {
    "sequence_probability": ("Ada Lovelace", E(-1.0)),
    "perplexity": ("Ada Lovelace", E(-0.5)),
    # PE = -(-1 - 3 - 2 - 1 - 3) / 5 = 2
    "predictive_entropy": ("Ada Lovelace", E(-2.0)),
    # per-token means -0.5, -1, -2, -0.5, -1.5 -> mean -1.1
    "normalized_entropy": ("Ada Lovelace", E(-1.1)),
    "verbalized": ("Ada Lovelace", 0.8),
    "verbalized_topk": ("Ada Lovelace", 0.7),
    # majority "ada lovelace" (3 of 4): confidences 0.9, 0.5, 0.5 (unparsed)
    "verbalized_sampling": ("Ada Lovelace", (0.9 + 0.5 + 0.5) / 3),
    "verbalized_consistency": ("Ada Lovelace", 1.9 / 2.5),
    "lexical_consistency": ("Ada Lovelace", 3 / 5),
    "semantic_consistency": ("Ada Lovelace", 4 / 5),
    # distinct sequences: class 0 e^-1 + e^-3 + e^-2 (s3 repeats s0), class 1 e^-3;
    # renormalised p0 = c0 / (c0 + c1), p1 = c1 / (c0 + c1); SE = -(4 log p0 + log p1) / 5
    "semantic_entropy": (
        "Ada Lovelace",
        E(
            (
                4 * math.log((E(-1) + E(-3) + E(-2)) / (E(-1) + E(-3) + E(-2) + E(-3)))
                + math.log(E(-3) / (E(-1) + E(-3) + E(-2) + E(-3)))
            )
            / 5
        ),
    ),
    "p_true": ("Ada Lovelace", 0.75),
    # distinct texts of cluster 0: e^-1 + e^-3 + e^-2 (s3 repeats s0); cluster 1: e^-3 < tau
    "sca": ("Ada Lovelace", E(-1) + E(-3) + E(-2)),
}


def test_every_method_is_registered_and_hand_checked() -> None:
    assert sorted(METHODS.names()) == sorted(DEFAULT_METHODS) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_method_on_fixed_samples(name: str) -> None:
    params = CalibrationParams(sca=ScaParams(tau=0.1))
    answer, conf = METHODS.get(name).judge(item(), params)
    want_answer, want_conf = EXPECTED[name]
    assert answer == want_answer
    assert conf == pytest.approx(want_conf, abs=1e-9)


def test_sca_tau_includes_the_small_cluster() -> None:
    _, conf = METHODS.get("sca").judge(item(), CalibrationParams(sca=ScaParams(tau=0.01)))
    assert conf == pytest.approx(E(-1) + E(-3) + E(-2) + E(-3))
    assert METHODS.get("sca").minmax and not METHODS.get("p_true").minmax


def test_minmax_fitted_on_a_split() -> None:
    v = np.array([0.2, 0.6, 1.0])
    assert minmax(v, np.ones(3, bool)).tolist() == pytest.approx([0.0, 0.5, 1.0])
    assert minmax(v, np.array([True, True, False])).tolist() == pytest.approx([0.0, 1.0, 1.0])
    assert minmax(np.array([0.3, 0.3]), np.ones(2, bool)).tolist() == [0.5, 0.5]


def test_parsers() -> None:
    assert parse_verbalized("Paris | 0.8") == ("Paris", 0.8)
    assert parse_verbalized("Paris|80%\nmore") == ("Paris", 0.8)
    assert parse_verbalized("Paris") == ("Paris", None)
    assert parse_confidence("confidence: 95") == 0.95
    assert parse_confidence("none") is None
    assert parse_topk("1. A | 0.6\n2) B | .3\n- C") == [("A", 0.6), ("B", 0.3), ("C", None)]


def test_squad_normalisation_and_rules() -> None:
    assert normalize("The  Hollow Season!") == "hollow season"
    assert is_correct("the Hollow season.", ["Hollow Season"], "exact")
    assert not is_correct("It is The Hollow Season.", ["Hollow Season"], "exact")
    assert is_correct("It is The Hollow Season.", ["Hollow Season"], "contains")
    assert not is_correct("Hollow Seasons", ["Hollow Season"], "contains")  # word bounds
    assert is_correct("Leon Abbott plays it", ["Freya Ulrich", "Leon Abbott"], "contains")


def test_clusters_merge_equal_and_close_answers() -> None:
    # a toy embedding: the two Lovelace spellings are near, Hopper far
    vecs = {"ada lovelace": [1.0, 0.0], "countess lovelace": [0.95, 0.31], "grace hopper": [0, 1]}

    def embed(texts: list[str]) -> np.ndarray:
        v = np.array([vecs[t] for t in texts])
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    texts = ["Ada Lovelace", "ada lovelace.", "Countess Lovelace", "Grace Hopper"]
    assert cluster_ids(texts, embed, 0.1) == [0, 0, 0, 1]
    assert cluster_ids(texts, embed, 0.01) == [0, 0, 1, 2]
