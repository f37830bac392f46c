"""The base of every typed params section: frozen, and unknown keys are errors."""

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """Base of every params section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)
