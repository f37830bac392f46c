"""Rankers of P8, one registered module each: ``lambdamart`` (LightGBM) and the MLP ranker
under two listwise losses (``mlp-listnet``, ``mlp-approxndcg``).

``RANKERS.get(name)(ltr_params)`` -> an object with ``fit(X, y, groups, weights, budget=,
warm_start=)`` and ``score(X)`` (``base``). Adding one: a module registering a factory and one
import line here. Importing this package does not import torch or lightgbm (they load in fit).
"""

from trustir.ranking.rankers import lambdamart, mlp  # noqa: F401
from trustir.ranking.rankers.base import RANKERS, Ranker

__all__ = ["RANKERS", "Ranker"]
