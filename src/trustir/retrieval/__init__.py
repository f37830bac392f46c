"""Retrieval: BM25 (bm25s), dense encoders, faiss indexes; each retriever returns a run table."""
