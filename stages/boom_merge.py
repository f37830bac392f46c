"""Stage boom_merge (P5): the experts merged by every method of ``boom.merge.methods`` (streamed
from safetensors) and scored -> data/boom/merge/<method>/ (model/, metrics.json, per-query)."""

from pathlib import Path

from trustir.config import Params
from trustir.multitask.boom import load_context, merge_experts
from trustir.stage import stage


@stage("boom_merge")
def main(params: Params, root: Path) -> None:
    ctx = load_context(params, root / "data/multitask/tasks")
    for method in params.boom.merge.methods:
        out = root / "data/boom/merge" / method
        row = merge_experts(method, ctx, root / "data/boom/experts", out)
        row.save(out)
        print(f"boom_merge {method}: {row.scores}")


if __name__ == "__main__":
    main()
