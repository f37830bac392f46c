"""The questions of P4 and their correctness rule: the ``qa`` contract table (issue 14).

``qa`` = qid, question, answers list[str], n_answers int, domain str?, context_doc_ids
list[str]?, plus ``context`` (list[str]: the in-context snippets; empty when closed-book) and
``split`` ("fit"/"test", by a hash of qid). Sources: the world's multi-answer facet, MACE
(opt-in: a shared folder), any JSONL of {"id", "question", "answers"}. Correctness: SQuAD's
normalisation (lowercase, drop punctuation and the articles a/an/the, squeeze spaces), then
exact match with any reference, or "contains" (a reference inside the answer on word bounds).
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from trustir import schema
from trustir.calibration.params import CalibrationParams, QAParams

#: the ``qa`` contract (``trustir.schema.QA``) plus the in-context snippets and the split
QA = {**schema.QA, "context": pl.List(pl.String), "split": pl.String}
MACE_FILE = "mace_questions_with_deepseek_v3_answers.jsonl"
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)


def normalize(text: str) -> str:
    """SQuAD's answer normalisation: lowercase, no punctuation, no articles, single spaces."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCT)).split())


def is_correct(answer: str, references: Sequence[str], rule: str = "exact") -> bool:
    """Whether ``answer`` matches any reference under ``rule`` (``exact`` or ``contains``)."""
    a = normalize(answer)
    refs = [r for r in (normalize(x) for x in references) if r]
    if rule == "exact":
        return a in refs
    if rule == "contains":
        return any(re.search(rf"(?<!\S){re.escape(r)}(?!\S)", a) for r in refs)
    raise ValueError(f"unknown correctness rule {rule!r}; known: exact, contains")


def split_of(qid: str, fit_fraction: float) -> str:
    """ "fit" or "test" by a hash of ``qid`` (stable; the same question is always on one side)."""
    h = int.from_bytes(hashlib.sha256(qid.encode()).digest()[:8], "big") / 2**64
    return "fit" if h < fit_fraction else "test"


def _frame(rows: list[dict[str, Any]], fit_fraction: float) -> pl.DataFrame:
    for r in rows:
        r.setdefault("domain", None)
        r.setdefault("context_doc_ids", None)
        r.setdefault("context", [])
        r["n_answers"] = r.get("n_answers") or len(r["answers"])
        r["split"] = split_of(r["qid"], fit_fraction)
    return pl.DataFrame(rows, schema=QA)


def world_qa(qa: QAParams, data: Any, fit_fraction: float) -> pl.DataFrame:
    """The world's multi-answer questions (``data``: the world's scale/seed)."""
    from trustir.sources.world import Sizes, build_world
    from trustir.sources.world.qa import multi_answer_questions

    world = build_world(Sizes.at(data.scale), data.seed, data.test_fraction)
    df = multi_answer_questions(
        world, data.seed, qa.per_count, tuple(qa.counts), qa.distractors, qa.snippet_chars
    )
    if not qa.in_context:
        df = df.with_columns(pl.lit([], dtype=pl.List(pl.String)).alias("context"))
    return _frame(df.to_dicts(), fit_fraction)


def mace_qa(folder: Path, qa: QAParams, fit_fraction: float) -> pl.DataFrame:
    """MACE's questions: the first ``per_count`` of each (domain, answer count) in file order."""
    path = folder / MACE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"calibration.qa.path: {path} is missing (the MACE folder)")
    taken: dict[tuple[str, int], int] = {}
    rows = []
    with path.open() as fh:
        for line_no, line in enumerate(fh, start=1):
            try:
                d = json.loads(line)
                key = (d["category"], int(d["n_answers_target"]))
                refs = [str(x) for x in d["reference"]]
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{line_no}: not a MACE row ({exc})") from None
            if key[1] not in qa.counts or taken.get(key, 0) >= qa.per_count:
                continue
            taken[key] = taken.get(key, 0) + 1
            rows.append(
                {"qid": d["id"], "question": d["question"], "answers": refs,
                 "n_answers": key[1], "domain": key[0]}
            )  # fmt: skip
    return _frame(rows, fit_fraction)


class QAFormatError(ValueError):
    """A QA JSONL line that breaks the format; the message starts with ``file:line:``."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}" if line else f"{path}: {problem}")


def _qa_row(path: Path, line_no: int, line: str) -> dict[str, Any]:
    """One ``{"id", "question", "answers"}`` line as a qa row (the id defaults to the line)."""
    try:
        d = json.loads(line)
    except ValueError as exc:
        raise QAFormatError(path, line_no, f"invalid JSON ({exc})") from None
    if not isinstance(d, dict):
        raise QAFormatError(path, line_no, f"expected a JSON object, got {type(d).__name__}")
    answers, question, qid = d.get("answers"), d.get("question"), d.get("id", line_no)
    if not isinstance(question, str) or not question.strip():
        raise QAFormatError(path, line_no, "'question' must be a non-empty string")
    if not isinstance(answers, list) or not answers:
        raise QAFormatError(path, line_no, "'answers' must be a non-empty list")
    if not all(isinstance(a, str | int) and not isinstance(a, bool) for a in answers):
        raise QAFormatError(path, line_no, "every answer must be a string (or a number)")
    refs = [str(a) for a in answers]
    if not all(a.strip() for a in refs):
        raise QAFormatError(path, line_no, "an answer is empty")
    if isinstance(qid, bool) or not isinstance(qid, str | int) or not str(qid):
        raise QAFormatError(path, line_no, f"'id' must be a non-empty string, got {qid!r}")
    return {"qid": str(qid), "question": question, "answers": refs}


def jsonl_qa(path: Path, qa: QAParams, fit_fraction: float) -> pl.DataFrame:
    """Any JSONL of {"id", "question", "answers": [...]} (the first ``max_questions``)."""
    rows = []
    first: dict[str, int] = {}
    with path.open("rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise QAFormatError(path, line_no, f"not UTF-8 ({exc.reason})") from None
            if not line.strip():
                continue
            row = _qa_row(path, line_no, line)
            if row["qid"] in first:
                raise QAFormatError(
                    path,
                    line_no,
                    f"duplicate id {row['qid']!r} (first on line {first[row['qid']]})",
                )
            first[row["qid"]] = line_no
            rows.append(row)
            if qa.max_questions and len(rows) >= qa.max_questions:
                break
    if not rows:
        raise QAFormatError(path, None, "no questions")
    return _frame(rows, fit_fraction)


def load_qa(params: CalibrationParams, data: Any, root: Path) -> pl.DataFrame:
    """The ``qa`` table ``params.qa`` names."""
    from trustir.paths import resolve_data_path

    qa = params.qa
    if qa.source == "world":
        return world_qa(qa, data, params.fit_fraction)
    if not qa.path:
        raise ValueError(f"calibration.qa.source {qa.source!r} needs calibration.qa.path")
    path = resolve_data_path(qa.path, root)
    if qa.source == "mace":
        return mace_qa(path, qa, params.fit_fraction)
    return jsonl_qa(path, qa, params.fit_fraction)
