"""Stage mm_contrastive (P2/P7): InfoNCE training from one pre-trained variant, then Precision@1
on every MMEB-like test task -> data/mm_contrastive/<variant>/ (model/, metrics.json,
per_item.parquet, log.json).

Usage (one item of the dvc.yaml foreach): ``python stages/mm_contrastive.py VARIANT``.
"""

import sys
from pathlib import Path

from trustir.config import Params
from trustir.stage import stage
from trustir.vision.pipeline import run_contrastive


@stage("mm_contrastive")
def main(params: Params, root: Path) -> None:
    variant = sys.argv[1]
    data = root / "data"
    scores = run_contrastive(
        variant,
        params.vision,
        data / "vision_world",
        data / "mm_pretrain" / variant,
        data / "mm_contrastive" / variant,
    )
    print(f"mm_contrastive {variant}: {scores}")


if __name__ == "__main__":
    main()
