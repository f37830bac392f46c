"""Oracle target: uniform over the recorded answer region's patches.

Not a proxy available without labels: an upper bound on what a perfect attention target could
give, which separates "the target is bad" from "the local loss does not help" (issue 17).
"""

from __future__ import annotations

import numpy as np

from trustir.agree.grid import region_mask
from trustir.agree.targets.base import TARGETS, Pair, TargetContext, fingerprint_of


class AnswerRegion:
    description = "oracle: uniform over the recorded answer region (upper bound, not a proxy)"

    def fingerprint(self, ctx: TargetContext) -> str:
        return fingerprint_of({"size": ctx.params.image_size, "grid": ctx.grid})

    def compute(self, ctx: TargetContext, pairs: list[Pair]) -> np.ndarray:
        boxes = {
            (r["query_id"], r["page_id"]): (r["x0"], r["y0"], r["x1"], r["y1"])
            for r in ctx.regions.iter_rows(named=True)
        }
        out = []
        for p in pairs:
            if (p.query_id, p.page_id) not in boxes:
                raise KeyError(
                    f"answer_region: no recorded region for ({p.query_id}, {p.page_id}); "
                    "folder collections have none (use agree.target: mllm_attention)"
                )
            mask = region_mask(boxes[p.query_id, p.page_id], ctx.params.image_size, ctx.grid)
            out.append(mask / max(mask.sum(), 1))
        return np.stack(out).astype(np.float32)


TARGETS.register("answer_region")(AnswerRegion())
