"""Relevance judges, one registered module each (``JUDGES`` in ``trustir.annotate.base`` loads
every module here on first use). Adding a judge: one module with ``@JUDGES.register(name)``."""
