"""AGREE's local losses, one registered module each (PAPERS.md P6); see ``base``."""

from trustir.agree.local.base import LOCAL_LOSSES, LocalOptions, normalised_target

__all__ = ["LOCAL_LOSSES", "LocalOptions", "normalised_target"]
