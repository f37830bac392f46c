"""The VLM layer and the multimodal embedding papers beside it (P2 CoCoA, P7 CoMa)."""
