"""Click-model evaluation as the click-model literature does it (P8; PyClick's definitions):
log-likelihood and perplexity of held-out sessions, and recovery of known relevance.

- log-likelihood: mean over shown results of log P(C_r = c_r | clicks above) (natural log);
- perplexity: per rank r, 2 ** -(mean over sessions of log2 P(C_r = c_r)) with the marginal
  click probability, averaged over ranks (Dupret and Piwowarski 2008); 1 is perfect, 2 is a coin;
- recovery: Pearson and Spearman correlation of the model's relevance estimates with the true
  grades of the pairs it saw.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from trustir.ranking.clickmodels.base import EPS, ClickModel, Sessions


def _log_obs(p: np.ndarray, clicks: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.where(clicks, np.log(p), np.log1p(-p))


def log_likelihood(model: ClickModel, sessions: Sessions) -> float:
    cond, _ = model.click_probs(sessions)
    return float(_log_obs(cond, sessions.clicks)[sessions.mask].mean())


def perplexity(model: ClickModel, sessions: Sessions) -> float:
    _, marginal = model.click_probs(sessions)
    return _perplexity(_log_obs(marginal, sessions.clicks) / np.log(2), sessions.mask)


def _perplexity(log2p: np.ndarray, mask: np.ndarray) -> float:
    per_rank = [
        2.0 ** -log2p[mask[:, r], r].mean() for r in range(mask.shape[1]) if mask[:, r].any()
    ]
    return float(np.mean(per_rank))


def per_query(model: ClickModel, sessions: Sessions) -> pl.DataFrame:
    """query_id, LL, perplexity of each query's sessions."""
    cond, marginal = model.click_probs(sessions)
    ll = _log_obs(cond, sessions.clicks)
    log2p = _log_obs(marginal, sessions.clicks) / np.log(2)
    rows = []
    for q, qid in enumerate(sessions.query_ids):
        rows_q = sessions.query == q
        m = sessions.mask[rows_q]
        rows.append((qid, float(ll[rows_q][m].mean()), _perplexity(log2p[rows_q], m)))
    return pl.DataFrame(rows, schema=["query_id", "LL", "perplexity"], orient="row")


def recovery(model: ClickModel, truth: pl.DataFrame) -> dict[str, float]:
    """Correlation of the model's estimates with ``truth`` (query_id, doc_id, relevance; a pair
    missing from it is grade 0) over every pair the model saw."""
    est = (
        model.relevance()
        .join(
            truth.select("query_id", "doc_id", pl.col("relevance").alias("grade")),
            on=["query_id", "doc_id"],
            how="left",
        )
        .with_columns(pl.col("grade").fill_null(0))
    )
    x, y = est["relevance"].to_numpy(), est["grade"].to_numpy().astype(float)
    if len(x) < 3 or x.std() == 0 or y.std() == 0:
        return {"pearson": float("nan"), "spearman": float("nan")}
    return {
        "pearson": float(stats.pearsonr(x, y).statistic),
        "spearman": float(stats.spearmanr(x, y).statistic),
    }
