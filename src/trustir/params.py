"""The full composition of every params section: ``Params`` is all of ``params.yaml``.

For ``trustir params``, tests, profiles and flows. A stage never imports this module: it declares
the sections it reads (``@stage(name, sections=(...))``) so its import closure holds only their
areas; library code may annotate with ``Params`` only under ``if TYPE_CHECKING:``.

Importing this module imports every area's params (and, through the loss and merge name checks,
torch). It also checks the names that a section cannot check without importing a whole area:
``data.source`` against the sources and ``llm.backend`` against the LLM backends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import model_validator

from trustir.agree.params import AgreeParams
from trustir.annotate.bench_params import JudgeBenchParams
from trustir.annotate.params import AnnotateParams
from trustir.authority.params import AuthorityParams
from trustir.calibration.params import CalibrationParams
from trustir.config import ParamsError, read_params_file, validate_model
from trustir.evaluate.params import EvaluateParams
from trustir.llm.config import LLMParams
from trustir.lvlm.params import LvlmParams
from trustir.multitask.params import BoomParams
from trustir.prag.params import PragParams
from trustir.ranking.params import LtrParams
from trustir.report.params import ReportParams
from trustir.retrieval.params import IndexParams
from trustir.retrieval.train_params import MultiposParams
from trustir.scale.params import ScaleParams
from trustir.section import Section
from trustir.sources.params import DataParams
from trustir.vision.params import VisionParams

__all__ = ["SECTIONS", "Params", "ParamsError", "load_params", "parse_params"]


class Params(Section):
    """All of ``params.yaml``: one field per section, named by the section's ``section_name``."""

    data: DataParams = DataParams()
    index: IndexParams = IndexParams()
    evaluate: EvaluateParams = EvaluateParams()
    llm: LLMParams = LLMParams()
    annotate: AnnotateParams = AnnotateParams()
    judge_bench: JudgeBenchParams = JudgeBenchParams()
    multipos: MultiposParams = MultiposParams()
    ltr: LtrParams = LtrParams()
    boom: BoomParams = BoomParams()
    authority: AuthorityParams = AuthorityParams()
    report: ReportParams = ReportParams()
    calibration: CalibrationParams = CalibrationParams()
    vision: VisionParams = VisionParams()
    prag: PragParams = PragParams()
    lvlm: LvlmParams = LvlmParams()
    scale: ScaleParams = ScaleParams()
    agree: AgreeParams = AgreeParams()

    @model_validator(mode="after")
    def _registered_names(self) -> Params:
        from trustir.llm.base import BACKENDS
        from trustir.sources.registry import SOURCES

        SOURCES.check(self.data.source, "data.source")
        BACKENDS.check(self.llm.backend, "llm.backend")
        return self


#: every section model, in ``params.yaml`` order.
SECTIONS: tuple[type[Section], ...] = tuple(
    f.annotation  # type: ignore[misc]
    for f in Params.model_fields.values()
)


def parse_params(raw: dict[str, Any], origin: str = "params.yaml") -> Params:
    """Validate a whole params mapping; errors name the file and the dotted key."""
    return validate_model(Params, raw or {}, origin)


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate a whole params file."""
    path = Path(path)
    return parse_params(read_params_file(path), origin=path.name)
