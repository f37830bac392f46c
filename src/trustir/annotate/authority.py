"""Authority judges (P1 AuthorityBench): PointJudge, PairJudge and ListJudge in several output
formats, registered in ``AUTHORITY_JUDGES`` as ``<judge>/<format>``.

- ``point/point_score``: one item -> a rating 1..L, read from the option probabilities as an
  expected score ("10" on a 10-point scale is scored by its summed teacher-forced log-probs);
  ``point/verbal``: low / medium / high, likewise (values 1, (L+1)/2, L).
- ``pair/preference``: two items -> A or B, asked in both orders (P(A) read from
  probabilities; averaging over the two positions cancels position bias);
  ``pair/point_score``: both items shown, each rated (one prompt per rated item and order).
- ``list/permutation``: k items -> a generated ranking, parsed (repaired or marked invalid, never
  guessed); ``list/point_score``: k items -> one generated rating per item, parsed.

A judge builds its calls (``calls``), and reduces the stored answers (``reduce``) to a score per
item and, for pair judges, a debiased preference per pair. ``authority_run`` runs the calls
through the label store.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from trustir.annotate import authority_prompts as tp
from trustir.annotate.authority_parse import (
    debias_preference,
    debias_scores,
    parse_list_scores,
    parse_permutation,
    position_scores,
)
from trustir.annotate.authority_prompts import Item
from trustir.llm.store import template_hash
from trustir.registry import Registry

AUTHORITY_JUDGES: Registry[type[AuthorityJudge]] = Registry("authority judge")


@dataclass(frozen=True)
class JudgeTask:
    """What a judge is asked about: one bench's items (by id), pairs and lists.

    ``pairs`` are (pair_id, a, b) with a shown first in the first order; ``lists`` are
    (list_id, item ids in the order shown); ``text_label`` names the page text shown with each
    item ("pages", "description"...), or is None to judge names only.
    """

    kind: str
    items: Mapping[str, Item]
    pairs: tuple[tuple[str, str, str], ...] = ()
    lists: tuple[tuple[str, tuple[str, ...]], ...] = ()
    text_label: str | None = None

    def item(self, item_id: str) -> Item:
        it = self.items[item_id]
        return it if self.text_label else Item(it.item_id, it.name, None)


@dataclass(frozen=True)
class Call:
    """One LLM call: the unit it answers (item, pair order, list), its prompt, and for generated
    answers the stricter prompt of the one retry."""

    unit: str
    prompt: list[dict[str, str]]
    strict: list[dict[str, str]] | None = None


@dataclass
class Judgement:
    """A judge's reading of a task: a score per item asked about (None = no usable answer), a
    debiased P(a over b) per pair (pair judges only), and counts of answers by parse status."""

    item_scores: dict[str, float | None]
    pair_prefs: dict[str, float | None] | None = None
    #: list judges: answers by parse status (valid / repaired / partial / invalid), and "error"
    #: for a list with no answer (a failed call or a missing row)
    status: dict[str, int] = field(default_factory=dict)


def reply_of(row: Mapping[str, Any]) -> str:
    """The last generated reply of a stored generate-mode row (its ``raw`` JSON's replies).

    Every such row that ``authority_run`` writes holds at least one reply; a row without one
    is not its row, so this is an error naming the row, never an empty reply read as invalid.
    """
    try:
        return json.loads(row["raw"])["replies"][-1]
    except (TypeError, ValueError, KeyError, IndexError):
        raise ValueError(
            f"label row {row.get('key')!r} ({row.get('task')}, status {row.get('status')}): "
            "raw holds no generated reply"
        ) from None


def option_reading(row: Mapping[str, Any] | None) -> float | None:
    """The expected value a scored row holds (None for a missing or failed row)."""
    if row is None or row.get("status") != "ok":
        return None
    return row.get("score")


class AuthorityJudge:
    """Base of the authority judges; subclasses set the class variables and two methods."""

    name: ClassVar[str]
    judge: ClassVar[str]  # point | pair | list
    fmt: ClassVar[str]  # point_score | verbal | preference | permutation
    mode: ClassVar[str]  # score (option probabilities) | generate (parse a reply)
    #: part of ``prompt_hash`` and so of every label key. 2 (issue 12): an answer with no scored
    #: option or a NaN log-prob is an error row (version 1 stopped the stage, or renormalised
    #: over the rest after a NaN), and every row's raw is JSON; version-1 rows are re-judged.
    parser_version: ClassVar[int] = 2

    def __init__(self, levels: int = 5, retry: bool = True) -> None:
        if levels < 2:
            raise ValueError(f"levels must be at least 2, got {levels}")
        self.levels = levels
        self.retry = retry

    # -- what is asked ----------------------------------------------------------------------
    @property
    def options(self) -> tuple[str, ...]:
        """Score mode: the answer options (their log-probs are read)."""
        return tuple(str(v) for v in range(1, self.levels + 1))

    @property
    def values(self) -> tuple[float, ...]:
        """Score mode: the value each option stands for."""
        return tuple(float(v) for v in range(1, self.levels + 1))

    def max_new_tokens(self, k: int) -> int:
        """Generate mode: the reply length allowed for a list of ``k`` items."""
        return 0

    def decoding(self) -> dict[str, Any]:
        """What enters every label key besides the prompt: mode, options or generation knobs."""
        if self.mode == "score":
            return {"mode": "score", "options": list(self.options)}
        return {"mode": "generate", "temperature": 0.0, "retry": self.retry}

    @property
    def prompt_hash(self) -> str:
        """Hash of everything that shapes this judge's prompts or the reading of its answers."""
        return template_hash(
            "authority", self.name, self.parser_version, self.levels, self.options, self.values
        )

    def calls(self, task: JudgeTask) -> list[Call]:
        raise NotImplementedError

    def parse_status(self, call: Call, reply: str, task: JudgeTask) -> str:
        """Generate mode: the parse status of ``reply`` (valid, repaired, partial, invalid)."""
        raise NotImplementedError

    def reduce(self, task: JudgeTask, rows: Mapping[str, Mapping[str, Any] | None]) -> Judgement:
        """Scores per item (and pair preferences) from the stored rows of each call's unit."""
        raise NotImplementedError

    # -- helpers ----------------------------------------------------------------------------
    def items_asked(self, task: JudgeTask) -> list[str]:
        """Ids of the items this judge is asked about, in order."""
        if self.judge == "pair":
            out: dict[str, None] = {}
            for _, a, b in task.pairs:
                out.setdefault(a)
                out.setdefault(b)
            return list(out)
        if self.judge == "list":
            return [i for _, ids in task.lists for i in ids]
        return list(task.items)


@AUTHORITY_JUDGES.register("point/point_score")
class PointScore(AuthorityJudge):
    """PointJudge, PointScore: one item -> expected rating on 1..L."""

    name, judge, fmt, mode = "point/point_score", "point", "point_score", "score"

    def prompt(self, task: JudgeTask, item_id: str) -> list[dict[str, str]]:
        return tp.point_prompt(task.kind, task.item(item_id), task.text_label, self.levels)

    def calls(self, task: JudgeTask) -> list[Call]:
        return [Call(i, self.prompt(task, i)) for i in task.items]

    def reduce(self, task: JudgeTask, rows: Mapping[str, Mapping[str, Any] | None]) -> Judgement:
        return Judgement({i: option_reading(rows.get(i)) for i in task.items})


@AUTHORITY_JUDGES.register("point/verbal")
class PointVerbal(PointScore):
    """PointJudge, verbal: low / medium / high, read as the expected value on 1..L."""

    name, fmt = "point/verbal", "verbal"
    words: ClassVar[tuple[str, ...]] = ("low", "medium", "high")

    @property
    def options(self) -> tuple[str, ...]:
        return self.words

    @property
    def values(self) -> tuple[float, ...]:
        n = len(self.words)
        return tuple(1.0 + i * (self.levels - 1) / (n - 1) for i in range(n))

    def prompt(self, task: JudgeTask, item_id: str) -> list[dict[str, str]]:
        return tp.verbal_prompt(task.kind, task.item(item_id), task.text_label, self.words)


@AUTHORITY_JUDGES.register("pair/preference")
class PairPreference(AuthorityJudge):
    """PairJudge, preference: A or B in both orders; P(a over b) = mean over positions."""

    name, judge, fmt, mode = "pair/preference", "pair", "preference", "score"

    @property
    def options(self) -> tuple[str, ...]:
        return ("A", "B")

    @property
    def values(self) -> tuple[float, ...]:
        return (1.0, 0.0)  # expected value = P(the item shown first)

    def calls(self, task: JudgeTask) -> list[Call]:
        out = []
        for pid, a, b in task.pairs:
            ia, ib = task.item(a), task.item(b)
            out.append(Call(f"{pid}|ab", tp.preference_prompt(task.kind, ia, ib, task.text_label)))
            out.append(Call(f"{pid}|ba", tp.preference_prompt(task.kind, ib, ia, task.text_label)))
        return out

    def reduce(self, task: JudgeTask, rows: Mapping[str, Mapping[str, Any] | None]) -> Judgement:
        prefs: dict[str, float | None] = {}
        wins: dict[str, list[float]] = {i: [] for i in self.items_asked(task)}
        for pid, a, b in task.pairs:
            ab, ba = option_reading(rows.get(f"{pid}|ab")), option_reading(rows.get(f"{pid}|ba"))
            if ab is None or ba is None:
                prefs[pid] = None
                continue
            prefs[pid] = p = debias_preference(ab, ba)
            wins[a].append(p)
            wins[b].append(1.0 - p)
        scores = {i: (sum(v) / len(v) if v else None) for i, v in wins.items()}
        return Judgement(scores, prefs)


@AUTHORITY_JUDGES.register("pair/point_score")
class PairScore(AuthorityJudge):
    """PairJudge, PointScore: both items shown, each rated 1..L, in both orders."""

    name, judge, fmt, mode = "pair/point_score", "pair", "point_score", "score"

    def calls(self, task: JudgeTask) -> list[Call]:
        out = []
        for pid, a, b in task.pairs:
            for order, (x, y) in (("ab", (a, b)), ("ba", (b, a))):
                ix, iy = task.item(x), task.item(y)
                for which in ("A", "B"):
                    prompt = tp.pair_score_prompt(
                        task.kind, ix, iy, task.text_label, self.levels, which
                    )
                    out.append(Call(f"{pid}|{order}|{which}", prompt))
        return out

    def reduce(self, task: JudgeTask, rows: Mapping[str, Mapping[str, Any] | None]) -> Judgement:
        prefs: dict[str, float | None] = {}
        got: dict[str, list[float]] = {i: [] for i in self.items_asked(task)}
        for pid, a, b in task.pairs:
            units = (f"{pid}|ab|A", f"{pid}|ba|B", f"{pid}|ba|A", f"{pid}|ab|B")
            vals = [option_reading(rows.get(u)) for u in units]
            if any(v is None for v in vals):
                prefs[pid] = None
                continue
            sa, sb = debias_scores(*vals)  # a first, a second, b first, b second
            prefs[pid] = 1.0 if sa > sb else 0.0 if sa < sb else 0.5
            got[a].append(sa)
            got[b].append(sb)
        scores = {i: (sum(v) / len(v) if v else None) for i, v in got.items()}
        return Judgement(scores, prefs)


class _ListJudge(AuthorityJudge):
    """Shared by the list judges: one generated reply per list, one stricter retry."""

    judge, mode = "list", "generate"

    def list_items(self, task: JudgeTask, ids: Sequence[str]) -> list[Item]:
        return [task.item(i) for i in ids]

    def calls(self, task: JudgeTask) -> list[Call]:
        return [
            Call(lid, self.list_prompt(task, ids), self.list_prompt(task, ids, strict=True))
            for lid, ids in task.lists
        ]

    def list_prompt(self, task: JudgeTask, ids: Sequence[str], strict: bool = False) -> list:
        raise NotImplementedError

    def reduce(self, task: JudgeTask, rows: Mapping[str, Mapping[str, Any] | None]) -> Judgement:
        scores: dict[str, float | None] = {}
        status: dict[str, int] = {}
        for lid, ids in task.lists:
            row = rows.get(lid)
            if row is None or row.get("status") == "error":  # no answer: counted apart
                got: list[float | None] = [None] * len(ids)
                st = "error"
            else:
                got, st = self.read_list(reply_of(row), len(ids))
            status[st] = status.get(st, 0) + 1
            scores.update(zip(ids, got, strict=True))
        return Judgement(scores, None, status)

    def read_list(self, reply: str, k: int) -> tuple[list[float | None], str]:
        raise NotImplementedError


@AUTHORITY_JUDGES.register("list/permutation")
class ListPermutation(_ListJudge):
    """ListJudge, ranked list: item score = its place, best 1 .. worst 0; invalid lists none."""

    name, fmt = "list/permutation", "permutation"

    def max_new_tokens(self, k: int) -> int:
        return 2 * k + 2  # "3,1,2" = one token per digit and comma (k <= 9), plus slack

    def decoding(self) -> dict[str, Any]:
        return {**super().decoding(), "max_new_tokens": "2k+2"}

    def list_prompt(self, task: JudgeTask, ids: Sequence[str], strict: bool = False) -> list:
        return tp.permutation_prompt(task.kind, self.list_items(task, ids), task.text_label, strict)

    def parse_status(self, call: Call, reply: str, task: JudgeTask) -> str:
        k = len(dict(task.lists)[call.unit])
        return parse_permutation(reply, k).status

    def read_list(self, reply: str, k: int) -> tuple[list[float | None], str]:
        perm = parse_permutation(reply, k)
        if perm.order is None:
            return [None] * k, perm.status
        return list(position_scores(perm.order, k)), perm.status


@AUTHORITY_JUDGES.register("list/point_score")
class ListScore(_ListJudge):
    """ListJudge, PointScore: one rating 1..L per item in one reply; items not rated: none."""

    name, fmt = "list/point_score", "point_score"

    def max_new_tokens(self, k: int) -> int:
        return 6 * k + 2  # "[10] 3\n" is at most 6 tokens

    def decoding(self) -> dict[str, Any]:
        return {**super().decoding(), "max_new_tokens": "6k+2"}

    def list_prompt(self, task: JudgeTask, ids: Sequence[str], strict: bool = False) -> list:
        return tp.list_score_prompt(
            task.kind, self.list_items(task, ids), task.text_label, self.levels, strict
        )

    def parse_status(self, call: Call, reply: str, task: JudgeTask) -> str:
        k = len(dict(task.lists)[call.unit])
        return parse_list_scores(reply, k, self.levels).status

    def read_list(self, reply: str, k: int) -> tuple[list[float | None], str]:
        parsed = parse_list_scores(reply, k, self.levels)
        return list(parsed.scores), parsed.status


def authority_judge_names() -> list[str]:
    """Names of the registered authority judges."""
    return AUTHORITY_JUDGES.names()


def make_authority_judge(name: str, levels: int = 5, retry: bool = True) -> AuthorityJudge:
    """The registered judge ``name`` on a ``levels``-point scale."""
    return AUTHORITY_JUDGES.get(name)(levels=levels, retry=retry)
