"""Sessions as arrays, the click-model base class and its registry (P8; Chuklin, Markov and
de Rijke, "Click Models for Web Search", 2015).

A click model is ``fit(sessions)`` then ``relevance()`` (per query-document estimates) and
``click_probs(sessions)`` (conditional and marginal click probabilities of any sessions, for
log-likelihood and perplexity). Every probability it estimates is smoothed with Beta
pseudo-counts ``prior = (a, b)``: ``(num + a) / (den + b)``; a pair it never saw gets ``a / b``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from trustir.registry import Registry

#: probabilities are clipped to [EPS, 1 - EPS] before taking logs.
EPS = 1e-6


@dataclass(frozen=True)
class Sessions:
    """Sessions as padded arrays: ``S`` sessions of at most ``L`` results."""

    pairs: np.ndarray  # [S, L] int: index into pair_keys (0 where padded)
    clicks: np.ndarray  # [S, L] bool
    mask: np.ndarray  # [S, L] bool: a result is shown there
    query: np.ndarray  # [S] int: index into query_ids
    pair_keys: list[tuple[str, str]]  # (query_id, doc_id) of each pair index
    query_ids: list[str]

    @property
    def n_sessions(self) -> int:
        return int(self.clicks.shape[0])

    @property
    def list_size(self) -> int:
        return int(self.clicks.shape[1])

    @classmethod
    def from_frame(cls, df: pl.DataFrame) -> Sessions:
        """From a sessions table (session_id, query_id, rank, doc_id, clicked).

        Ranks of a session must be 1..n without gaps or repeats (ValueError names the session).
        """
        missing = {"session_id", "query_id", "rank", "doc_id", "clicked"} - set(df.columns)
        if missing:
            raise ValueError(f"sessions table lacks column(s) {sorted(missing)}")
        if df.height == 0:
            raise ValueError("no sessions")
        d = df.select(
            pl.col("session_id").cast(pl.String),
            pl.col("query_id").cast(pl.String),
            pl.col("rank").cast(pl.Int64),
            pl.col("doc_id").cast(pl.String),
            pl.col("clicked").cast(pl.Boolean),
        ).with_columns(
            (pl.col("session_id").rank("dense") - 1).cast(pl.Int64).alias("s"),
            (pl.col("query_id").rank("dense") - 1).cast(pl.Int64).alias("q"),
            (pl.concat_str("query_id", "doc_id", separator="\x1f").rank("dense") - 1)
            .cast(pl.Int64)
            .alias("p"),
        )
        check = d.group_by("session_id").agg(
            pl.len().alias("n"),
            pl.col("rank").min().alias("lo"),
            pl.col("rank").max().alias("hi"),
            pl.col("rank").n_unique().alias("u"),
            pl.col("query_id").n_unique().alias("nq"),
        )
        bad = check.filter(
            (pl.col("lo") != 1)
            | (pl.col("hi") != pl.col("n"))
            | (pl.col("u") != pl.col("n"))
            | (pl.col("nq") != 1)
        )
        if bad.height:
            sid = bad["session_id"][0]
            raise ValueError(
                f"session {sid!r}: ranks must be 1..n once each, with one query "
                f"({bad.height} bad session(s))"
            )
        n_s, length = int(d["s"].max()) + 1, int(d["rank"].max())
        s, r = d["s"].to_numpy(), d["rank"].to_numpy() - 1
        pairs = np.zeros((n_s, length), dtype=np.int64)
        clicks = np.zeros((n_s, length), dtype=bool)
        mask = np.zeros((n_s, length), dtype=bool)
        pairs[s, r], clicks[s, r], mask[s, r] = d["p"].to_numpy(), d["clicked"].to_numpy(), True
        query = np.zeros(n_s, dtype=np.int64)
        query[s] = d["q"].to_numpy()
        keys = d.select("p", "query_id", "doc_id").unique("p").sort("p")
        qids = d.select("q", "query_id").unique("q").sort("q")["query_id"].to_list()
        return cls(
            pairs=pairs,
            clicks=clicks,
            mask=mask,
            query=query,
            pair_keys=list(zip(keys["query_id"].to_list(), keys["doc_id"].to_list(), strict=True)),
            query_ids=qids,
        )

    def ranks(self) -> np.ndarray:
        """[S, L] 0-based rank of every position."""
        return np.broadcast_to(np.arange(self.list_size), self.clicks.shape)

    def previous_click(self) -> np.ndarray:
        """[S, L] 1-based rank of the last click above each position (0 = none above)."""
        pos = np.where(self.clicks & self.mask, np.arange(1, self.list_size + 1), 0)
        last = np.maximum.accumulate(pos, axis=1)  # last click at or above
        prev = np.zeros_like(last)
        prev[:, 1:] = last[:, :-1]
        return prev

    def impressions(self) -> np.ndarray:
        """[P] times each pair was shown."""
        return np.bincount(self.pairs[self.mask], minlength=len(self.pair_keys))


def smoothed(num: np.ndarray, den: np.ndarray, prior: tuple[float, float]) -> np.ndarray:
    """(num + a) / (den + b): Beta pseudo-counts (a = b / 2 gives a 1/2 prior mean)."""
    a, b = prior
    return (num + a) / (den + b)


def bincount(idx: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    return np.bincount(idx, weights=weights, minlength=size).astype(np.float64)


class ClickModel:
    """Base of the registered click models: pair parameters live in ``alpha`` (attractiveness,
    indexed like ``keys``); subclasses add their own and implement ``fit``/``click_probs``."""

    name = "base"

    def __init__(self, prior: tuple[float, float] = (1.0, 2.0), iterations: int = 50) -> None:
        self.prior = (float(prior[0]), float(prior[1]))
        self.iterations = iterations
        self.keys: list[tuple[str, str]] = []
        self.alpha = np.zeros(0)
        self.shown = np.zeros(0, dtype=np.int64)

    # -- to implement ---------------------------------------------------------------------
    def fit(self, sessions: Sessions) -> ClickModel:
        raise NotImplementedError

    def click_probs(self, sessions: Sessions) -> tuple[np.ndarray, np.ndarray]:
        """(conditional P(C_r = 1 | clicks above), marginal P(C_r = 1)), both [S, L]."""
        raise NotImplementedError

    def pair_relevance(self) -> np.ndarray:
        """[P] relevance estimate of each fitted pair (attractiveness unless overridden)."""
        return self.alpha

    # -- shared ---------------------------------------------------------------------------
    @property
    def default(self) -> float:
        """The estimate of a pair never seen: the prior mean."""
        return self.prior[0] / self.prior[1]

    def _remember(self, sessions: Sessions) -> None:
        self.keys = list(sessions.pair_keys)
        self.shown = sessions.impressions()
        self._index = {k: i for i, k in enumerate(self.keys)}

    def lookup(self, values: np.ndarray, sessions: Sessions, default: float) -> np.ndarray:
        """[S, L] this model's per-pair ``values`` at the positions of other ``sessions``."""
        own = np.array([self._index.get(k, -1) for k in sessions.pair_keys], dtype=np.int64)
        per_pair = np.where(own >= 0, values[np.maximum(own, 0)], default)
        return per_pair[sessions.pairs]

    def relevance(self) -> pl.DataFrame:
        """query_id, doc_id, relevance (the model's estimate), impressions."""
        if not self.keys:
            raise ValueError(f"click model {self.name!r} is not fitted")
        q, d = zip(*self.keys, strict=True)
        return pl.DataFrame(
            {
                "query_id": list(q),
                "doc_id": list(d),
                "relevance": self.pair_relevance().astype(np.float64),
                "impressions": self.shown.astype(np.int64),
            }
        )


ClickModelFactory = Callable[..., ClickModel]
CLICK_MODELS: Registry[ClickModelFactory] = Registry(
    "click model", autoload="trustir.ranking.clickmodels"
)


def register_click_model(name: str) -> Callable[[type[ClickModel]], type[ClickModel]]:
    """Class decorator: record the model under ``name`` (and set its ``name``)."""

    def deco(cls: type[ClickModel]) -> type[ClickModel]:
        cls.name = name
        CLICK_MODELS.register(name)(cls)
        return cls

    return deco
