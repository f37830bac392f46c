"""P4's prompts and the parsers of verbalized confidence (issue 14).

Every prompt puts the (optional) documents first and the instruction after them, so the prompts
of one question share their longest prefix and the hf backend's KV cache pays it once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from trustir.llm.store import template_hash

ANSWER = "Answer the question with a short answer only (a name or a few words).\nQuestion: {q}"
VERBALIZED = (
    "Answer the question, then say how confident you are that the answer is correct, as a "
    "number between 0 and 1, in the form: answer | confidence\nQuestion: {q}"
)
TOPK = (
    "Give your {k} best guesses for the question, each with the probability that it is "
    "correct, one per line, in the form: guess | probability\nQuestion: {q}"
)
PTRUE = "Question: {q}\nProposed answer: {a}\nIs the proposed answer correct? Answer Yes or No."
PTRUE_OPTIONS = ("Yes", "No")
PTRUE_HASH = template_hash("calibration.p_true", PTRUE, PTRUE_OPTIONS, "v1")
_NUMBER = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*(%?)")


def documents(context: Sequence[str]) -> str:
    """The documents block ("" when closed-book)."""
    if not context:
        return ""
    return "Documents:\n" + "\n".join(f"[{i}] {s}" for i, s in enumerate(context, 1)) + "\n\n"


def answer_prompt(question: str, context: Sequence[str]) -> str:
    return documents(context) + ANSWER.format(q=question)


def verbalized_prompt(question: str, context: Sequence[str]) -> str:
    return documents(context) + VERBALIZED.format(q=question)


def topk_prompt(question: str, context: Sequence[str], k: int) -> str:
    return documents(context) + TOPK.format(q=question, k=k)


def ptrue_prompt(question: str, context: Sequence[str], answer: str) -> str:
    return documents(context) + PTRUE.format(q=question, a=answer.strip() or "(no answer)")


def parse_confidence(text: str) -> float | None:
    """The first number of ``text`` as a probability ("0.8", ".8", "80%", "80" → 0.8); None if
    there is none or it exceeds 100."""
    m = _NUMBER.search(text)
    if not m:
        return None
    v = float(m.group(1))
    if m.group(2) or v > 1:
        v /= 100
    return v if 0 <= v <= 1 else None


def parse_verbalized(text: str) -> tuple[str, float | None]:
    """("answer", confidence) from "answer | 0.8" (the last ``|`` splits; no ``|``: the whole
    first line is the answer and the confidence is unknown)."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    if "|" not in line:
        return line.strip(), None
    ans, _, conf = line.rpartition("|")
    return ans.strip(), parse_confidence(conf)


def parse_topk(text: str) -> list[tuple[str, float | None]]:
    """Every "guess | probability" line of ``text`` (lines without ``|``: probability None)."""
    out = []
    for line in text.strip().splitlines():
        line = re.sub(r"^\s*(?:\d+[.)]|[-*•])\s*", "", line).strip()
        if line:
            out.append(parse_verbalized(line))
    return out
