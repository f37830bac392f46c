"""Prompt pieces shared by judges: document delimiters that document text cannot forge.

A document is untrusted input. It is placed between ``<passage>`` and ``</passage>`` lines, and
any delimiter-like tag inside it is neutralised, so a document can never close its own passage
and speak as the instructions (prompt-injection defence; the label is read from option
probabilities or from the model's reply only, never from the prompt).
"""

from __future__ import annotations

import re

_TAG = re.compile(r"<\s*/?\s*(passage|query|instructions?)\b[^>]*>", re.IGNORECASE)


def neutralise(text: str) -> str:
    """Replace delimiter-like tags (``</passage>``, ``<query>``...) by bracketed look-alikes."""
    return _TAG.sub(lambda m: "[" + m.group(0).strip("<>").strip() + "]", text)


def passage_block(text: str, max_chars: int = 2000) -> str:
    """The document between delimiter lines, neutralised and cut at ``max_chars``."""
    body = neutralise(text.strip())[:max_chars]
    return f"<passage>\n{body}\n</passage>"


def query_block(text: str) -> str:
    return f"<query>\n{neutralise(text.strip())}\n</query>"
