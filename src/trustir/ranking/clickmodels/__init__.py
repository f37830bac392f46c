"""Click models of P8, one registered module each: ``ctr``, ``pbm`` (EM), ``ubm`` (EM), ``sdbn``.

``CLICK_MODELS.get(name)(prior=(a, b), iterations=n).fit(Sessions.from_frame(df))``, then
``.relevance()`` (query_id, doc_id, relevance, impressions) and ``.click_probs(sessions)``;
``evaluate`` has log-likelihood, perplexity and relevance recovery.
Adding a model: one module here with ``@register_click_model(name)``; ``CLICK_MODELS`` loads
every module of this package on first use.
"""

from trustir.ranking.clickmodels.base import (
    CLICK_MODELS,
    ClickModel,
    Sessions,
    register_click_model,
)

__all__ = ["CLICK_MODELS", "ClickModel", "Sessions", "register_click_model"]
