"""Unit-test fixtures shared by the retrieval tests (tiny models built from a config)."""

import pytest

from trustir.retrieval.testing import build_tiny_bert


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 2-layer, 32-wide random BERT with MiniLM's tokenizer, saved as a model dir."""
    return str(build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), max_position_embeddings=64))
