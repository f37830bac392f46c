"""Evaluation: ir_measures over runs and qrels, per-query values for significance tests."""
