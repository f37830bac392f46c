"""Stage boom_merge (P5): the experts merged by every method of ``boom.merge.methods`` (streamed
from safetensors) and scored -> data/boom/merge/<method>/ (model/, metrics.json, per-query)."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.multitask.boom import load_context, merge_experts
from trustir.multitask.params import BoomParams
from trustir.retrieval.params import IndexParams
from trustir.stage import stage

if TYPE_CHECKING:
    from trustir.params import Params


@stage("boom_merge", sections=(IndexParams, BoomParams))
def main(params: "Params", root: Path) -> None:
    ctx = load_context(params, root / "data/multitask/tasks")
    for method in params.boom.merge.methods:
        out = root / "data/boom/merge" / method
        row = merge_experts(method, ctx, root / "data/boom/experts", out)
        row.save(out)
        print(f"boom_merge {method}: {row.scores}")


if __name__ == "__main__":
    main()
