"""PRAG's QA pairs: ``n`` question-answer pairs about the passage, one "Q: ... A: ..." per line."""

from __future__ import annotations

import re

from trustir.prag.generators import GENERATORS, Generator, Unparseable

TEMPLATE = (
    "Read the passage and write {n} question-answer pairs about its facts, in exactly this "
    "form:\nQ: <a question about the passage>?\nA: <its short answer from the passage>\n\n"
    "Passage: {title}. {text}"
)
_PAIR = re.compile(r"Q\s*\d*\s*[:.]\s*(?P<q>.+?\?)\s*(?:\n\s*)?A\s*\d*\s*[:.]\s*(?P<a>[^\n]+)")


def parse_qa(reply: str, n: int) -> list[tuple[str, str]]:
    """Up to ``n`` (question, answer) pairs; none at all is unparseable.

    A pair is "Q: <question ending in ?> A: <answer>" on one line or two; answers are cut at
    the next "Q:" and stripped of trailing punctuation; a pair that repeats the form's
    placeholders ("<...>") is dropped.
    """
    pairs = []
    for m in _PAIR.finditer(reply):
        q = " ".join(m.group("q").split())
        a = re.split(r"\bQ\s*\d*\s*:", m.group("a"))[0].strip().rstrip(".;,")
        if q and a and "<" not in q + a:  # an echo of the form's placeholders is no pair
            pairs.append((q, a))
        if len(pairs) == n:
            break
    if not pairs:
        raise Unparseable(f"no 'Q: ... ? A: ...' pair in {reply[:120]!r}")
    return pairs


GENERATORS.register("qa")(Generator("qa", TEMPLATE, "v3", parse_qa))
