"""CTR (P8): the document click-through-rate model (DCTR; Craswell et al. 2008's baseline): a result
is clicked with its pair's smoothed CTR, wherever it is shown (no position bias)."""

from __future__ import annotations

import numpy as np

from trustir.ranking.clickmodels.base import (
    ClickModel,
    Sessions,
    bincount,
    register_click_model,
    smoothed,
)


@register_click_model("ctr")
class CTR(ClickModel):
    """alpha_qd = (clicks + a) / (impressions + b); P(C = 1) = alpha_qd."""

    def fit(self, sessions: Sessions) -> CTR:
        self._remember(sessions)
        m, n_pairs = sessions.mask, len(sessions.pair_keys)
        clicks = bincount(sessions.pairs[m], sessions.clicks[m].astype(float), n_pairs)
        self.alpha = smoothed(clicks, self.shown.astype(float), self.prior)
        return self

    def click_probs(self, sessions: Sessions) -> tuple[np.ndarray, np.ndarray]:
        p = self.lookup(self.alpha, sessions, self.default)
        return p, p
