"""Stage mm_train (P2/P7): one variant from the common start -> data/mm_train/<variant>/ (model/,
metrics.json, per_item.parquet, log.json): pre-training (``none``: none; ``cocoa``: EOS
reconstruction under restructured attention; ``coma``: answers from K compression tokens), then
InfoNCE on EOS embeddings (equal total examples), then Precision@1 on every MMEB-like test task.

Usage (one item of the dvc.yaml foreach): ``python stages/mm_train.py VARIANT``.
"""

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from trustir.stage import stage
from trustir.vision.params import VisionParams
from trustir.vision.pipeline import run_train

if TYPE_CHECKING:
    from trustir.params import Params


@stage("mm_train", sections=(VisionParams,))
def main(params: "Params", root: Path) -> None:
    variant = sys.argv[1]
    data = root / "data"
    scores = run_train(variant, params.vision, data / "vision_world", data / "mm_train" / variant)
    print(f"mm_train {variant}: {scores}")


if __name__ == "__main__":
    main()
