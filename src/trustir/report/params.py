"""The ``report`` params section: how every table's noise is estimated (issue 20, part 3)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from trustir.report.noise import Bootstrap
from trustir.section import Section


class ReportParams(Section):
    """``report.bootstrap`` resamples (seed ``report.seed``) of each cell's per-query values give
    its ``report.confidence`` interval."""

    section_name: ClassVar[str] = "report"

    bootstrap: int = Field(1000, ge=10)
    seed: int = 0
    confidence: float = Field(0.95, gt=0.0, lt=1.0)

    def settings(self) -> Bootstrap:
        return Bootstrap(self.bootstrap, self.seed, self.confidence)
