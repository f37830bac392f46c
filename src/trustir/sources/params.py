"""The ``data`` params section: where the data comes from (DESIGN.md "Params")."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from trustir.section import Section


class DataParams(Section):
    """Where the data comes from (DESIGN.md "Params")."""

    section_name: ClassVar[str] = "data"

    #: a registered source (``trustir.sources.registry.SOURCES``): world | local | beir. Checked
    #: by ``trustir.params.Params`` and by the fetch stage (here it would import every source).
    source: str = "world"
    #: local: a BEIR-layout folder (relative paths resolve against the repo root);
    #: beir: unused (the download cache is ``TRUSTIR_CACHE`` or the user cache dir).
    path: str | None = None
    #: world: a label for reports; beir: the dataset name (e.g. "scifact").
    name: str = "mini-world"
    #: world only: one multiplier of every size of the generated world.
    scale: float = Field(1.0, gt=0)
    seed: int = 13
    #: world only: fraction of queries in the test split (BEIR folders carry their own split).
    test_fraction: float = Field(0.3, gt=0, lt=1)
    #: optional subsets of real data (for quick runs): keep this many test queries...
    max_queries: int | None = Field(None, gt=0)
    #: ...and this many documents (every judged document of a kept query is always kept).
    max_docs: int | None = Field(None, gt=0)
    #: local/beir: documents with neither title nor text are warned about and kept
    #: (unretrievable, as in BEIR) or dropped ("drop": fails if one of them is judged relevant).
    empty_docs: Literal["keep", "drop"] = "keep"
