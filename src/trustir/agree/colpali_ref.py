"""colpali-engine's loss and MaxSim scorer as references (tests, benchmarks/bench_maxsim.py).

colpali-engine 0.3.18 is installed with ``--no-deps`` (Makefile): its dependencies would
downgrade peft and add torchvision (which pins another torch). Its package ``__init__`` imports
its models, whose processors import torchvision, so ``import colpali_engine.loss`` fails here;
its loss (``loss/late_interaction_losses.py``) and scorer (``utils/processing_utils.py``,
``utils/maxsim.py``) need only torch and transformers. ``colpali_module`` imports such a
submodule under a bare package object for ``colpali_engine`` (its ``__path__`` only), leaving
its ``__init__`` unrun. Nothing in the pipeline imports this module.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types


def colpali_module(name: str) -> types.ModuleType:
    """``colpali_engine.<name>`` without running ``colpali_engine/__init__.py``; raises
    ModuleNotFoundError when colpali-engine is not installed."""
    if "colpali_engine" not in sys.modules:
        spec = importlib.util.find_spec("colpali_engine")
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError(
                "colpali-engine is not installed: pip install --no-deps colpali-engine==0.3.18"
            )
        package = types.ModuleType("colpali_engine")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules["colpali_engine"] = package
    return importlib.import_module(f"colpali_engine.{name}")


def pairwise_ce_loss(temperature: float = 1.0, normalize_scores: bool = True):
    """colpali-engine's ``ColbertPairwiseCELoss`` (softplus of hardest negative minus positive)."""
    mod = colpali_module("loss.late_interaction_losses")
    return mod.ColbertPairwiseCELoss(temperature=temperature, normalize_scores=normalize_scores)


def score_multi_vector(qs, ps, batch_size: int = 128, device: str = "cpu"):
    """colpali-engine's ``BaseVisualRetrieverProcessor.score_multi_vector`` (MaxSim, CPU)."""
    mod = colpali_module("utils.processing_utils")
    return mod.BaseVisualRetrieverProcessor.score_multi_vector(
        qs, ps, batch_size=batch_size, device=device
    )
