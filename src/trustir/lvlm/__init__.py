"""P10 LVLM knowledge boundaries (issue 17): VQA on the visual world, confidence signals of a
VLM and of its text-only LLM counterpart, their calibration."""
