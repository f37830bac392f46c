"""Stage mm_pretrain (P2/P7): one pre-training variant from the common start -> data/mm_pretrain/
<variant>/ (model/, log.json): ``none`` (the start itself), ``cocoa`` (EOS reconstruction under
restructured attention), ``coma`` (answers from K compression tokens).

Usage (one item of the dvc.yaml foreach): ``python stages/mm_pretrain.py VARIANT``.
"""

import sys
from pathlib import Path

from trustir.config import Params
from trustir.stage import stage
from trustir.vision.pipeline import run_pretrain


@stage("mm_pretrain")
def main(params: Params, root: Path) -> None:
    variant = sys.argv[1]
    out = root / "data/mm_pretrain" / variant
    log = run_pretrain(variant, params.vision, root / "data/vision_world", out)
    print(f"mm_pretrain {variant}: {log}")


if __name__ == "__main__":
    main()
