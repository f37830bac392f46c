"""Prefect flows around the DVC DAG (scheduling and monitoring); never imported by ``src/``."""
