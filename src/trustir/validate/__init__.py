"""The validate stage's library: Great Expectations suites for every data contract table.

``validate_tables({"corpus": df, "queries": df, "qrels": df})`` checks each table present (and
the ids qrels and links refer to) and raises :class:`ValidationFailed` naming each broken rule.
"""

from trustir.validate.runner import ValidationFailed, failure_lines, validate_tables
from trustir.validate.suites import SUITES, WORLD_GRADES, Rule, grade_scale, rules_for

__all__ = [
    "SUITES",
    "WORLD_GRADES",
    "Rule",
    "ValidationFailed",
    "failure_lines",
    "grade_scale",
    "rules_for",
    "validate_tables",
]
