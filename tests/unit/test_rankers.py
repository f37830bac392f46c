"""P8 rankers: hand-worked ListNet and ApproxNDCG values, the LambdaMART wrapper against a direct
LightGBM call on LightGBM's LETOR example, per-query weights, warm starts, MLP determinism."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from trustir.evaluate.measures import evaluate_run
from trustir.ranking.listwise import LISTWISE_LOSSES, approxndcg, listnet
from trustir.ranking.params import LightGBMParams, LtrParams, MLPParams
from trustir.ranking.rankers import RANKERS
from trustir.ranking.rankers.lambdamart import LambdaMART, lightgbm_params
from trustir.ranking.rankers.mlp import MLPRanker, pad_groups

LETOR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "lightgbm_lambdarank"


# -- listwise losses by hand --------------------------------------------------------------------
def test_listnet_hand_worked_with_padding_ignored():
    scores = torch.tensor([[1.0, 0.0, 5.0]])
    labels = torch.tensor([[1.0, 0.0, 3.0]])
    mask = torch.tensor([[True, True, False]])  # the third entry is padding
    # target = softmax([1, 0]) = [0.7311, 0.2689]; log softmax(scores) = [-0.3133, -1.3133]
    p = math.e / (math.e + 1)
    expected = -(p * math.log(p) + (1 - p) * math.log(1 - p))
    assert listnet(scores, labels, mask).item() == pytest.approx(expected, abs=1e-6)
    assert expected == pytest.approx(0.5822, abs=1e-4)


def test_approxndcg_hand_worked():
    scores = torch.tensor([[1.0, 0.0, -3.0]])
    labels = torch.tensor([[1.0, 0.0, 2.0]])
    mask = torch.tensor([[True, True, False]])
    # approximate rank of doc 0: 1 + sigmoid((0 - 1) / 1) = 1.2689; gain 2^1 - 1 = 1
    rank0 = 1 + 1 / (1 + math.e)
    expected = -(1 / math.log2(1 + rank0)) / 1.0  # IDCG = 1 / log2(2)
    got = approxndcg(scores, labels, mask, temperature=1.0).item()
    assert got == pytest.approx(expected, abs=1e-6) and got == pytest.approx(-0.8460, abs=1e-4)
    # no relevant document: loss 0, not NaN
    assert approxndcg(scores, torch.zeros_like(labels), mask).item() == 0.0


def test_approxndcg_approaches_minus_ndcg_at_low_temperature():
    scores = torch.tensor([[0.1, 0.9, 0.5, 0.3]])
    labels = torch.tensor([[3.0, 0.0, 1.0, 2.0]])
    mask = torch.ones(1, 4, dtype=torch.bool)
    gains, order = 2.0 ** labels[0] - 1, torch.argsort(scores[0], descending=True)
    dcg = sum(gains[i] / math.log2(r + 2) for r, i in enumerate(order.tolist()))
    idcg = sum(g / math.log2(r + 2) for r, g in enumerate(sorted(gains.tolist(), reverse=True)))
    got = approxndcg(scores, labels, mask, temperature=1e-4).item()
    assert got == pytest.approx(-float(dcg) / idcg, abs=1e-4)
    assert set(LISTWISE_LOSSES.names()) == {"listnet", "approxndcg"}


def test_pad_groups_shapes_and_weights():
    X = np.arange(10, dtype=float).reshape(5, 2)
    xs, ys, mask, w = pad_groups(
        X, np.array([1, 0, 2, 1, 0]), np.array([2, 3]), np.array([0.5, 0.5, 2, 2, 2])
    )
    assert xs.shape == (2, 3, 2) and mask.tolist() == [[True, True, False], [True, True, True]]
    assert ys[1].tolist() == [2, 1, 0] and w.tolist() == [0.5, 2.0]


# -- LambdaMART ---------------------------------------------------------------------------------
def read_letor(path: Path):
    """LibSVM rows "<label> <fid>:<value> ..." (1-based fids) and the .query group sizes."""
    labels, rows = [], []
    for line in path.read_text().splitlines():
        label, *feats = line.split()
        labels.append(float(label))
        rows.append({int(k): float(v) for k, v in (f.split(":") for f in feats)})
    X = np.zeros((len(rows), max(max(r) for r in rows)))
    for i, r in enumerate(rows):
        for k, v in r.items():
            X[i, k - 1] = v
    return X, np.array(labels), np.loadtxt(f"{path}.query", dtype=np.int64)


def ndcg10(scores: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> float:
    import polars as pl

    qid = np.repeat([f"q{i}" for i in range(len(groups))], groups)
    did = [f"d{i}" for i in range(len(labels))]
    run = pl.DataFrame({"query_id": qid, "doc_id": did, "score": scores})
    qrels = pl.DataFrame({"query_id": qid, "doc_id": did, "relevance": labels.astype(np.int64)})
    return evaluate_run(run, qrels, ["nDCG@10"], 1)[0]["nDCG@10"]


@pytest.mark.skipif(not LETOR.is_dir(), reason="../shared/data/lightgbm_lambdarank absent")
def test_lambdamart_wrapper_equals_direct_lightgbm_on_the_letor_example():
    import lightgbm as lgb

    X, y, groups = read_letor(LETOR / "rank.train")
    X_test, y_test, g_test = read_letor(LETOR / "rank.test")
    X_test = np.pad(X_test, ((0, 0), (0, X.shape[1] - X_test.shape[1])))
    p = LightGBMParams(n_estimators=60)
    ours = LambdaMART(p).fit(X, y, groups).score(X_test)
    # LightGBM reading the LibSVM files and their .query files itself, same params
    direct = lgb.train(
        lightgbm_params(p), lgb.Dataset(str(LETOR / "rank.train")), num_boost_round=60
    )
    theirs = direct.predict(str(LETOR / "rank.test"))
    assert ndcg10(ours, y_test, g_test) == pytest.approx(ndcg10(theirs, y_test, g_test), abs=1e-12)
    assert 0.5 < ndcg10(ours, y_test, g_test) < 1.0
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


def toy(seed: int = 0, n_q: int = 30, size: int = 8):
    """Lists whose grade is a noisy function of feature 0."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_q * size, 4))
    y = np.clip(np.round(X[:, 0] + 1.5 + rng.normal(0, 0.3, n_q * size)), 0, 3).astype(int)
    return X, y, np.full(n_q, size)


def test_zero_weight_groups_do_not_influence_lambdamart():
    X, y, groups = toy()
    w = np.repeat(np.where(np.arange(len(groups)) < 20, 1.0, 0.0), groups)
    flipped = y.copy()
    flipped[w == 0] = 3 - flipped[w == 0]  # the weight-0 queries' labels reversed
    p = LightGBMParams(n_estimators=20)
    a = LambdaMART(p).fit(X, y, groups, w).score(X)
    b = LambdaMART(p).fit(X, flipped, groups, w).score(X)
    np.testing.assert_array_equal(a, b)
    c = LambdaMART(p).fit(X, flipped, groups).score(X)  # unweighted: the flip matters
    assert not np.array_equal(a, c)


def test_lambdamart_warm_start_continues_boosting():
    X, y, groups = toy()
    model = LambdaMART(LightGBMParams(n_estimators=20))
    model.fit(X, y, groups, budget=0.5)
    assert model.booster.num_trees() == 10
    model.fit(X, y, groups, budget=0.5, warm_start=True)
    assert model.booster.num_trees() == 20
    model.fit(X, y, groups, budget=0.5)  # no warm start: a fresh model
    assert model.booster.num_trees() == 10


# -- the MLP ranker -----------------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["listnet", "approxndcg"])
def test_mlp_is_seeded_and_learns_a_simple_ranking(loss):
    X, y, groups = toy()
    p = MLPParams(epochs=15, hidden=[16], lr=0.01)
    a = MLPRanker(p, loss).fit(X, y, groups).score(X)
    b = MLPRanker(p, loss).fit(X, y, groups).score(X)
    np.testing.assert_array_equal(a, b)
    assert ndcg10(a, y, groups) > 0.9 > ndcg10(-a, y, groups)


def test_ranker_registry_and_input_checks():
    assert RANKERS.names() == sorted(LtrParams().rankers)  # the default runs every ranker
    X, y, groups = toy(n_q=4)
    for name in RANKERS:
        ranker = RANKERS.get(name)(LtrParams())
        with pytest.raises(ValueError, match="groups sum to 31"):
            ranker.fit(X, y, np.array([8, 8, 8, 7]))
        with pytest.raises(ValueError, match="fit before score"):
            ranker.score(X)
