"""UBM (P8): the user browsing model (Dupret and Piwowarski 2008), fitted by EM.

P(C_r = 1 | clicks above) = gamma[r, r'] * alpha_qd, where r' is the rank of the last click
above r (0 when none): examination depends on the rank and on the distance from the last click.
EM as for PBM with gamma indexed by (r, r'). Identified up to a common scale (normalise by
gamma[1, 0]). The marginal P(C_r = 1) sums over where the last click above r was.
"""

from __future__ import annotations

import numpy as np

from trustir.ranking.clickmodels.base import (
    ClickModel,
    Sessions,
    bincount,
    register_click_model,
    smoothed,
)


@register_click_model("ubm")
class UBM(ClickModel):
    """User browsing model: attractiveness per pair, examination per (rank, last-click rank)."""

    def fit(self, sessions: Sessions) -> UBM:
        self._remember(sessions)
        m, n_pairs, length = sessions.mask, len(sessions.pair_keys), sessions.list_size
        pairs, clicks = sessions.pairs[m], sessions.clicks[m]
        cell = (sessions.ranks() * (length + 1) + sessions.previous_click())[m]
        n_cells = length * (length + 1)
        alpha, gamma = np.full(n_pairs, 0.5), np.full(n_cells, 0.5)
        shown = self.shown.astype(float)
        per_cell = bincount(cell, None, n_cells)
        for _ in range(self.iterations):
            a, g = alpha[pairs], gamma[cell]
            skip = 1.0 - g * a
            post_a = np.where(clicks, 1.0, a * (1 - g) / skip)
            post_e = np.where(clicks, 1.0, g * (1 - a) / skip)
            alpha = smoothed(bincount(pairs, post_a, n_pairs), shown, self.prior)
            gamma = smoothed(bincount(cell, post_e, n_cells), per_cell, self.prior)
        self.alpha, self.length = alpha, length
        self.gamma = gamma.reshape(
            length, length + 1
        )  # [rank r (0-based), last click r' (0 = none)]
        return self

    def _gamma_table(self, length: int) -> np.ndarray:
        """[length, length + 1] gamma; cells beyond the fitted list take the prior mean."""
        table = np.full((length, length + 1), self.default)
        k = min(length, self.length)
        table[:k, : k + 1] = self.gamma[:k, : k + 1]
        return table

    def click_probs(self, sessions: Sessions) -> tuple[np.ndarray, np.ndarray]:
        a = self.lookup(self.alpha, sessions, self.default)  # [S, L]
        length = sessions.list_size
        gamma = self._gamma_table(length)
        cond = a * gamma[np.arange(length)[None, :], sessions.previous_click()]
        # marginal: state[s, j] = P(last click above the current rank is at rank j), j = 0..L
        state = np.zeros((sessions.n_sessions, length + 1))
        state[:, 0] = 1.0
        marginal = np.zeros_like(a)
        for r in range(length):
            click_given = a[:, r : r + 1] * gamma[r][None, :]  # [S, L + 1]
            p_click = (state * click_given).sum(axis=1)
            marginal[:, r] = p_click
            state = state * (1 - click_given)
            state[:, r + 1] += p_click
        return cond, marginal
