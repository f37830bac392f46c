"""Stage agree_train (P6): attention targets (cached by content hash), then every row (global-only
and AGREE x local loss x λ) trained from one start and scored by nDCG@1/@5 -> data/agree_train/."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.agree.params import AgreeParams
from trustir.agree.pipeline import run_agree
from trustir.stage import stage

if TYPE_CHECKING:
    from trustir.params import Params


@stage("agree_train", sections=(AgreeParams,))
def main(params: "Params", root: Path) -> None:
    results = run_agree(params.agree, root / "data/vidore_data", root / "data/agree_train")
    for row, means in results.items():
        print(f"agree_train {row}: " + ", ".join(f"{k} {v:.4f}" for k, v in means.items()))


if __name__ == "__main__":
    main()
