"""Formats: parquet tables, BEIR folders, TREC runs and qrels; every write is atomic."""
