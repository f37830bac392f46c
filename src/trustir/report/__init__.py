"""The one report API: every paper writes its table through ``Table`` (metrics JSON, per-query
values, Markdown, PNG plots), so reports and comparisons read the same data."""

from trustir.report.provenance import Provenance, collect_provenance
from trustir.report.table import Table, load_table, per_query_rows

__all__ = ["Provenance", "Table", "collect_provenance", "load_table", "per_query_rows"]
