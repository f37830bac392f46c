"""The data contracts as rules: one declarative suite of Great Expectations rules per table.

A :class:`Rule` names a GX expectation class and its arguments, so building the suites costs no
GX import; :mod:`trustir.validate.runner` turns them into ``gx.ExpectationSuite`` objects. Each
rule carries its message in plain words ("doc_id must be unique"): that text is the report's key
and what a failing stage prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from trustir.schema import SPLITS

#: qrels ``source`` values: the ground truth kinds, or ``llm:<model>`` / ``click:<model>``.
SOURCE_PATTERN = r"^(?:world|human|llm:.+|click:.+)$"
#: pandas dtypes that hold integers: numpy's, and pandas' nullable ones (GX looks these up by name).
_WIDTHS = ("8", "16", "32", "64")
INT_DTYPES = [
    *(f"{sign}int{w}" for sign in ("", "u") for w in _WIDTHS),
    *(f"{sign}Int{w}Dtype" for sign in ("", "U") for w in _WIDTHS),
]
#: the columns that name a row in failure examples, per table.
ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "corpus": ("doc_id",),
    "queries": ("query_id",),
    "qrels": ("query_id", "doc_id", "source"),
    "domains": ("domain",),
    "links": ("src", "dst"),
    "entities": ("entity_id",),
}


@dataclass(frozen=True)
class Rule:
    """One expectation on one table: the GX class name, its arguments, its plain-words message.

    ``columns`` are the columns the rule reads; when one of them is absent from the table the rule
    is left out (the table's "must exist" rules report the missing column instead).
    """

    name: str
    expectation: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    columns: tuple[str, ...] = ()


Tables = dict[str, pl.DataFrame]
#: an inclusive (lowest, highest) bound on qrels grades, or None: any integer grade.
Grades = tuple[int, int] | None
SuiteBuilder = Callable[[Tables, Grades], list[Rule]]
#: the mini-world's grade scale (DESIGN.md "Relevance"); real collections bring their own.
WORLD_GRADES = (0, 3)


def exists(column: str) -> Rule:
    return Rule(f"column {column} must exist", "ExpectColumnToExist", {"column": column})


def not_null(column: str) -> Rule:
    return Rule(
        f"{column} must not be null", "ExpectColumnValuesToNotBeNull", {"column": column}, (column,)
    )


def unique(column: str) -> Rule:
    return Rule(
        f"{column} must be unique", "ExpectColumnValuesToBeUnique", {"column": column}, (column,)
    )


def non_blank(column: str) -> Rule:
    """Non-empty and not only whitespace (nulls are the not-null rule's business)."""
    return Rule(
        f"{column} must not be empty",
        "ExpectColumnValuesToMatchRegex",
        {"column": column, "regex": r"\S"},
        (column,),
    )


def in_set(column: str, values: list[Any], what: str) -> Rule:
    return Rule(
        f"{column} must {what}",
        "ExpectColumnValuesToBeInSet",
        {"column": column, "value_set": values},
        (column,),
    )


def between(column: str, low: float | None, high: float | None, what: str) -> Rule:
    return Rule(
        f"{column} must be {what}",
        "ExpectColumnValuesToBeBetween",
        {"column": column, "min_value": low, "max_value": high},
        (column,),
    )


def integer(column: str) -> Rule:
    return Rule(
        f"{column} must be an integer",
        "ExpectColumnValuesToBeInTypeList",
        {"column": column, "type_list": INT_DTYPES},
        (column,),
    )


def grade_bounds(low: int, high: int) -> Rule:
    return between("relevance", low, high, f"a grade between {low} and {high}")


def known_ids(tables: Tables, table: str, column: str, used: pl.Series) -> list[str] | None:
    """The ids of ``tables[table][column]`` among the ``used`` ones; None if that table is absent.

    Every used id outside this list fails the in-set rule exactly as it would against the whole
    id set, but the list stays as small as the referring table: GX re-serialises an
    expectation's arguments dozens of times per run, so a 100k-id set would cost seconds.
    """
    df = tables.get(table)
    if df is None or column not in df.columns:
        return None
    used = used.drop_nulls().unique()
    return used.filter(used.is_in(df.get_column(column).implode())).sort().to_list()


def references(
    tables: Tables, source: tuple[str, str], target: tuple[str, str], what: str
) -> list[Rule]:
    """A cross-table rule: ``source`` (table, column) must hold ids of ``target`` (table, column).

    Left out when the target table is absent (or the source column, whose rule reports it).
    """
    table, column = source
    if column not in tables[table].columns:
        return []
    ids = known_ids(tables, *target, used=tables[table].get_column(column))
    return [] if ids is None else [in_set(column, ids, what)]


def corpus_rules(tables: Tables, grades: Grades) -> list[Rule]:
    """Documents may have an empty text (a title-only one is embedded as its title) or be empty
    altogether: the fetch stage warns about those and keeps or drops them (``data.empty_docs``)."""
    return [
        *map(exists, ("doc_id", "title", "text")),
        not_null("doc_id"),
        unique("doc_id"),
        not_null("title"),
        not_null("text"),
    ]


def queries_rules(tables: Tables, grades: Grades) -> list[Rule]:
    return [
        *map(exists, ("query_id", "text", "split")),
        not_null("query_id"),
        unique("query_id"),
        not_null("text"),
        non_blank("text"),
        not_null("split"),
        in_set("split", list(SPLITS), "be " + " or ".join(f'"{s}"' for s in SPLITS)),
        between("freq", 1, None, "at least 1 where present"),
    ]


def qrels_rules(tables: Tables, grades: Grades) -> list[Rule]:
    return [
        *map(exists, ("query_id", "doc_id", "relevance", "source")),
        *map(not_null, ("query_id", "doc_id", "relevance", "source")),
        *references(
            tables, ("qrels", "query_id"), ("queries", "query_id"), "name a query in queries"
        ),
        *references(tables, ("qrels", "doc_id"), ("corpus", "doc_id"), "name a document in corpus"),
        integer("relevance"),
        *([] if grades is None else [grade_bounds(*grades)]),
        Rule(
            "source must be world, human, llm:<model> or click:<model>",
            "ExpectColumnValuesToMatchRegex",
            {"column": "source", "regex": SOURCE_PATTERN},
            ("source",),
        ),
        Rule(
            "(query_id, doc_id, source) must be unique",
            "ExpectCompoundColumnsToBeUnique",
            {"column_list": ["query_id", "doc_id", "source"]},
            ("query_id", "doc_id", "source"),
        ),
    ]


def domains_rules(tables: Tables, grades: Grades) -> list[Rule]:
    return [
        *map(exists, ("domain", "pagerank")),
        not_null("domain"),
        unique("domain"),
        not_null("pagerank"),
        between("pagerank", 0, 1, "between 0 and 1"),
    ]


def links_rules(tables: Tables, grades: Grades) -> list[Rule]:
    return [
        *map(exists, ("src", "dst")),
        *map(not_null, ("src", "dst")),
        *references(tables, ("links", "src"), ("domains", "domain"), "name a domain in domains"),
        *references(tables, ("links", "dst"), ("domains", "domain"), "name a domain in domains"),
    ]


def entities_rules(tables: Tables, grades: Grades) -> list[Rule]:
    return [exists("entity_id"), not_null("entity_id"), unique("entity_id")]


#: one suite per validated table, in the order they run.
SUITES: dict[str, SuiteBuilder] = {
    "corpus": corpus_rules,
    "queries": queries_rules,
    "qrels": qrels_rules,
    "domains": domains_rules,
    "links": links_rules,
    "entities": entities_rules,
}


def rules_for(table: str, tables: Tables, grades: Grades = None) -> list[Rule]:
    """The rules of ``table`` that apply to the columns it has (absent optional columns skip).

    ``grades`` bounds qrels grades (the world: :data:`WORLD_GRADES`); None accepts any integer
    grade (1-4, 0-4, Touché's -2..2), whose scale :func:`grade_scale` then reports."""
    present = set(tables[table].columns)
    rules = SUITES[table](tables, grades)
    names = [r.name for r in rules]
    if len(names) != len(set(names)):
        raise ValueError(f"suite {table!r} repeats a rule name: {names}")
    return [r for r in rules if set(r.columns) <= present]


def grade_scale(qrels: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """The grade scale found per qrels source: ``{source: {"min", "max", "grades", "rows"}}``
    (``grades`` maps each grade, as text for JSON, to its row count)."""
    if qrels.height == 0 or not {"source", "relevance"} <= set(qrels.columns):
        return {}
    if not qrels.schema["relevance"].is_integer():
        return {}
    out: dict[str, dict[str, Any]] = {}
    counts = qrels.drop_nulls(["source", "relevance"]).group_by("source", "relevance").len()
    for (source,), part in counts.sort("source", "relevance").group_by(
        "source", maintain_order=True
    ):
        grades = dict(zip(part["relevance"].to_list(), part["len"].to_list(), strict=True))
        out[str(source)] = {
            "min": min(grades),
            "max": max(grades),
            "grades": {str(g): int(n) for g, n in grades.items()},
            "rows": int(sum(grades.values())),
        }
    return out
