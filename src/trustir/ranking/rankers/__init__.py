"""Rankers of P8, one registered module each: ``lambdamart`` (LightGBM) and the MLP ranker
under two listwise losses (``mlp-listnet``, ``mlp-approxndcg``; the losses are
``trustir.ranking.listwise``).

``RANKERS.get(name)(ltr_params)`` -> an object with ``fit(X, y, groups, weights, budget=,
warm_start=)`` and ``score(X)`` (``base``). Adding one: a module here registering a factory;
``RANKERS`` loads every module of this package on first use. Loading them does not import
torch or lightgbm (they load in fit).
"""

from trustir.ranking.rankers.base import RANKERS, Ranker

__all__ = ["RANKERS", "Ranker"]
