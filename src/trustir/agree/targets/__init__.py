"""Where AGREE's local target Ã comes from, one registered module each; see ``base``."""

from trustir.agree.targets.base import TARGETS, Pair, TargetContext, cached_targets

__all__ = ["TARGETS", "Pair", "TargetContext", "cached_targets"]
