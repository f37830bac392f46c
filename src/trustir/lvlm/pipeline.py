"""What the P10 stages do, as functions of params and folders (the stage scripts stay thin).

``lvlm_sample`` -> ``data/lvlm_sample/`` (vqa, samples, rephrasings): the VQA items and every
reply of both models, through the label store; ``lvlm`` -> the ``lvlm`` table, the per-question
judgements, reliability diagrams and ``reports/lvlm.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from trustir.calibration.prompts import VERBALIZED
from trustir.lvlm.backend import ANSWER_CUE, VLMBackend
from trustir.lvlm.params import LvlmParams
from trustir.sources.world.attributes import ATTRIBUTES


def vlm_vocabulary(records: pl.DataFrame, items: pl.DataFrame) -> list[str]:
    """The tiny VLM's word list: the visual world's texts, every question phrasing of the
    world's attributes, the verbalized instruction and the answer cue. It does not depend on
    ``lvlm`` params, so changing them never changes the model (nor its cached replies)."""
    from trustir.vision.pipeline import vocabulary

    asks = [a for attrs in ATTRIBUTES.values() for attr in attrs for a in attr.asks]
    return [*vocabulary(records, items), *asks, VERBALIZED, ANSWER_CUE]


def make_vlm(vision: Any, records: pl.DataFrame, items: pl.DataFrame) -> VLMBackend:
    """The VLM backend: the tiny Qwen2-VL (seeded random weights) or the named checkpoint."""
    from trustir.vision.model import build_tiny, load_vlm

    if vision.model == "tiny":
        return VLMBackend(build_tiny(vlm_vocabulary(records, items), vision))
    return VLMBackend(load_vlm(vision.model, vision))


def sample_all(params: Any, root: Path, ledger_cls: Any) -> tuple[dict[str, pl.DataFrame], dict]:
    """The VQA items and every reply (``lvlm_sample``); returns its tables and the run ledger
    figures. ``params`` holds the data, llm, vision and lvlm sections."""
    from trustir.llm.config import make_backend
    from trustir.llm.store import LabelStore
    from trustir.lvlm.collect import collect
    from trustir.lvlm.vqa import build_vqa
    from trustir.sources.world import Sizes, build_world
    from trustir.vision.pipeline import load_world

    p: LvlmParams = params.lvlm
    records, items, images = load_world(root / "data/vision_world")
    world = build_world(Sizes.at(params.data.scale), seed=params.data.seed)
    vqa = build_vqa(world, records, p.items, p.seed)
    llm = make_backend(params.llm)
    vlm = make_vlm(params.vision, records, items) if "vlm" in p.models else None
    ledger = ledger_cls(run="lvlm-sample", model=llm.model_id)
    store = Path(p.store).expanduser() if p.store else None
    vlm_before = vlm.usage.calls if vlm else 0
    with LabelStore(store) as st, ledger.track(llm):
        out = collect(vqa, p, llm, vlm, images, st, ledger)
    ledger.append()
    vlm_calls = (vlm.usage.calls - vlm_before) if vlm else 0
    return {"vqa": vqa, **out}, {**ledger.to_metrics(), "vlm_calls": vlm_calls}


def vlm_statement(cells: dict, p: LvlmParams, vision_model: str) -> str:
    """The honest statement on the VLM beside the table (accuracy, AUROC, what it can show)."""
    vlm = {r: v for r, v in cells.items() if r.startswith("vlm/")}
    if not vlm:
        return "The VLM was not run (lvlm.models)."
    acc = vlm.get(f"vlm/{p.methods[0]}", next(iter(vlm.values())))["accuracy"]
    aucs = [v["auroc"] for v in vlm.values() if v["auroc"] is not None]
    auc = f"AUROC {min(aucs):.3f}-{max(aucs):.3f}" if aucs else "AUROC undefined (one class)"
    if vision_model != "tiny":
        return f"VLM `{vision_model}`: greedy accuracy {acc:.3f}, {auc}."
    return (
        f"**The VLM here is the offline tiny Qwen2-VL with random weights** (vision.model: "
        f"tiny): greedy accuracy {acc:.3f}, {auc}. Its replies are random words of its "
        "word-level vocabulary, so its rows show that the pipeline runs (images, perturbations, "
        "rephrasings, token log-probs, caching) and nothing about LVLM knowledge boundaries (a "
        "near-zero ECE there is near-zero confidence meeting zero accuracy, not calibration); "
        "name a real checkpoint in vision.model (Qwen/Qwen2-VL-2B-Instruct, on a GPU) for the "
        "finding. The text rows (SmolLM2-135M reading the page's text) are a real model."
    )
