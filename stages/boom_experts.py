"""Stage boom_experts (P5): one expert per in-domain task, trained from the base on that task
alone -> data/boom/experts/<task>/model/ and experts.json (their training cost)."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.multitask.boom import load_context, train_experts
from trustir.multitask.params import BoomParams
from trustir.stage import stage

if TYPE_CHECKING:
    from trustir.params import Params


@stage("boom_experts", sections=(BoomParams,))
def main(params: "Params", root: Path) -> None:
    ctx = load_context(params, root / "data/multitask/tasks")
    index = train_experts(ctx, root / "data/boom/experts")
    print(f"boom_experts: {index}")


if __name__ == "__main__":
    main()
