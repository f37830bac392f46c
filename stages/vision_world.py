"""Stage vision_world (P2/P7): renders of the world's entity cards and pages with what each
states, and the MMEB-like tasks on them -> data/vision_world/{images/, records.parquet,
items.parquet}. The world is that of ``data.seed``/``data.scale`` whatever ``data.source`` is."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.sources.params import DataParams
from trustir.stage import stage
from trustir.vision.params import VisionParams
from trustir.vision.pipeline import make_visual_world

if TYPE_CHECKING:
    from trustir.params import Params


@stage("vision_world", sections=(DataParams, VisionParams))
def main(params: "Params", root: Path) -> None:
    counts = make_visual_world(
        params.data.scale, params.data.seed, params.vision, root / "data/vision_world"
    )
    print(f"vision_world: {counts}")


if __name__ == "__main__":
    main()
