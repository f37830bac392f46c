"""Retriever training objectives of P3, one registered module each (PAPERS.md P3).

``LOSSES.get(name)(scores, pos_mask, neg_mask, **options)``; see ``base`` for the contract.
Adding a loss: one module here with ``@register_loss(name, positives=...)``; ``LOSSES`` loads
every module of this package on first use, so nothing else is edited.
"""

from trustir.retrieval.losses.base import LOSSES, Loss, masked_logsumexp, register_loss

__all__ = ["LOSSES", "Loss", "masked_logsumexp", "register_loss"]
