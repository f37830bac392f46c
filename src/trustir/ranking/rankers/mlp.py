"""The neural ranker of P8: an MLP scorer over standardised features, trained with a listwise
loss (``trustir.ranking.listwise``) on whole query lists, per-query weighted.

A batch holds ``batch_queries`` lists padded to the longest (masked); its loss is
sum_q w_q * loss_q / sum_q w_q. Standardisation (mean, std) is fitted on the first ``fit``'s
rows and kept by warm starts. Seeded: same data and params, same model.
"""

from __future__ import annotations

import numpy as np

from trustir.ranking.params import MLPParams
from trustir.ranking.rankers.base import RANKERS, check_groups


def pad_groups(X, y, groups, weights):
    """Lists padded to the longest: X [Q, L, d], y [Q, L], mask [Q, L], w [Q]."""
    sizes = np.asarray(groups, dtype=np.int64)
    q, width, d = len(sizes), int(sizes.max()), X.shape[1]
    xs, ys = np.zeros((q, width, d), dtype=np.float32), np.zeros((q, width), dtype=np.float32)
    mask = np.zeros((q, width), dtype=bool)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    for i, (s, n) in enumerate(zip(starts, sizes, strict=True)):
        xs[i, :n], ys[i, :n], mask[i, :n] = X[s : s + n], y[s : s + n], True
    w = np.ones(q) if weights is None else np.asarray(weights, dtype=np.float64)[starts]
    return xs, ys, mask, w.astype(np.float32)


class MLPRanker:
    """MLP scorer + listwise loss."""

    def __init__(self, params: MLPParams | None = None, loss: str = "listnet") -> None:
        from trustir.ranking.listwise import LISTWISE_LOSSES

        self.params = params or MLPParams()
        self.loss_name = loss
        self.loss_fn = LISTWISE_LOSSES.get(loss)
        self.net = None
        self.mean = self.std = None
        self._calls = 0

    def _build(self, d: int):
        import torch
        from torch import nn

        torch.manual_seed(self.params.seed)
        layers, width = [], d
        for h in self.params.hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, 1))
        return nn.Sequential(*layers)

    def fit(self, X, y, groups, weights=None, *, budget: float = 1.0, warm_start: bool = False):
        import torch

        check_groups(X, y, groups, weights)
        torch.set_num_threads(self.params.num_threads)
        X = np.asarray(X, dtype=np.float64)
        if not warm_start or self.net is None:
            self.mean, self.std = X.mean(axis=0), X.std(axis=0) + 1e-6
            self.net = self._build(X.shape[1])
        xs, ys, mask, w = pad_groups((X - self.mean) / self.std, np.asarray(y), groups, weights)
        xs_t, ys_t = torch.from_numpy(xs), torch.from_numpy(ys)  # [Q, L, d], [Q, L]
        mask_t, w_t = torch.from_numpy(mask), torch.from_numpy(w)  # [Q, L], [Q]
        opts = {"temperature": self.params.temperature} if self.loss_name == "approxndcg" else {}
        opt = torch.optim.Adam(
            self.net.parameters(), lr=self.params.lr, weight_decay=self.params.weight_decay
        )
        gen = torch.Generator().manual_seed(self.params.seed + self._calls)
        self._calls += 1
        epochs, b = max(1, int(round(self.params.epochs * budget))), self.params.batch_queries
        self.net.train()
        for _ in range(epochs):
            order = torch.randperm(len(w), generator=gen)
            for start in range(0, len(order), b):
                idx = order[start : start + b]
                scores = self.net(xs_t[idx]).squeeze(-1)  # [B, L]
                per_query = self.loss_fn(scores, ys_t[idx], mask_t[idx], **opts)  # [B]
                loss = (w_t[idx] * per_query).sum() / w_t[idx].sum().clamp_min(1e-12)
                opt.zero_grad()
                loss.backward()
                opt.step()
        return self

    def score(self, X) -> np.ndarray:
        import torch

        if self.net is None:
            raise ValueError("MLPRanker: fit before score")
        self.net.eval()
        xs = torch.from_numpy(
            ((np.asarray(X, dtype=np.float64) - self.mean) / self.std).astype(np.float32)
        )
        with torch.no_grad():
            return self.net(xs).squeeze(-1).double().numpy()  # [n]


@RANKERS.register("mlp-listnet")
def _mlp_listnet(params) -> MLPRanker:
    return MLPRanker(params.mlp, "listnet")


@RANKERS.register("mlp-approxndcg")
def _mlp_approxndcg(params) -> MLPRanker:
    return MLPRanker(params.mlp, "approxndcg")
