"""P6 AGREE: attention-grounded late-interaction retrieval of visual documents (PAPERS.md P6)."""
