"""Retriever training objectives of P3, one registered module each (PAPERS.md P3).

``LOSSES.get(name)(scores, pos_mask, neg_mask, **options)``; see ``base`` for the contract.
Adding a loss: one module with ``@register_loss(name, positives=...)`` and one import line here.
"""

from trustir.retrieval.losses import infonce, jointlh, lsepair, rand1lh, summarglh  # noqa: F401
from trustir.retrieval.losses.base import LOSSES, Loss, masked_logsumexp, register_loss

__all__ = ["LOSSES", "Loss", "masked_logsumexp", "register_loss"]
