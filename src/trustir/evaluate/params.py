"""The ``evaluate`` params section: IR measures and the binary-relevance threshold."""

from __future__ import annotations

from typing import ClassVar

from trustir.section import Section


class EvaluateParams(Section):
    """IR measures (ir_measures names) and the binary-relevance threshold."""

    section_name: ClassVar[str] = "evaluate"

    measures: list[str] = ["nDCG@10", "R@100", "RR@10"]
    #: grade counted as relevant by binary measures; null = by source (world 2, BEIR 1).
    min_rel: int | None = None
