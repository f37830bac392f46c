"""The base of every typed params section: frozen, and unknown keys are errors."""

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """Base of every params section: unknown keys are errors, not silently ignored.

    A top-level section of ``params.yaml`` sets ``section_name`` (its key there, e.g. ``"data"``);
    nested models (``index.bm25``...) leave it empty. Each area defines its own sections.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    section_name: ClassVar[str] = ""
