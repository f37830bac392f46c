"""LambdaMART: LightGBM's ``lambdarank`` objective (Burges 2010) behind the ranker contract (P8).

Per-row weights multiply each document's lambda gradient and hessian (LightGBM's ranking
objectives do so), so constant weights per query group weight whole queries, as FAMOL needs. A
warm start continues boosting from the current booster on new data (a schedule's phase 2).
"""

from __future__ import annotations

import os

import numpy as np

from trustir.ranking.params import LightGBMParams
from trustir.ranking.rankers.base import RANKERS, check_groups


def lightgbm_params(p: LightGBMParams) -> dict:
    """The LightGBM params this ranker trains with (also what a direct call should use)."""
    return {
        "objective": "lambdarank",
        "metric": "ndcg",
        "ndcg_eval_at": [10],
        "learning_rate": p.learning_rate,
        "num_leaves": p.num_leaves,
        "min_data_in_leaf": p.min_data_in_leaf,
        "num_threads": p.num_threads,
        "seed": p.seed,
        "deterministic": True,
        "force_row_wise": True,
        "verbose": -1,
    }


class LambdaMART:
    """LightGBM lambdarank ranker."""

    def __init__(self, params: LightGBMParams | None = None) -> None:
        self.params = params or LightGBMParams()
        self.booster = None

    def fit(self, X, y, groups, weights=None, *, budget: float = 1.0, warm_start: bool = False):
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import lightgbm as lgb

        check_groups(X, y, groups, weights)
        data = lgb.Dataset(
            np.asarray(X, dtype=np.float64),
            label=np.asarray(y),
            group=np.asarray(groups),
            weight=None if weights is None else np.asarray(weights, dtype=np.float64),
            free_raw_data=False,
        )
        rounds = max(1, int(round(self.params.n_estimators * budget)))
        init = self.booster if (warm_start and self.booster is not None) else None
        self.booster = lgb.train(
            lightgbm_params(self.params),
            data,
            num_boost_round=rounds,
            init_model=init,
            keep_training_booster=True,
        )
        return self

    def score(self, X) -> np.ndarray:
        if self.booster is None:
            raise ValueError("LambdaMART: fit before score")
        return np.asarray(self.booster.predict(np.asarray(X, dtype=np.float64)), dtype=np.float64)


@RANKERS.register("lambdamart")
def _lambdamart(params) -> LambdaMART:
    return LambdaMART(params.lightgbm)
