"""The plain word tokenizer shared by the library (base layer: it imports nothing of trustir).

Lowercased runs of ``[a-z0-9]``, a few English stopwords dropped, no stemming. The mini-world's
click simulation ranks with it (its production BM25, ``sources/world/clicks.py``) and the LTR
features count query/document overlaps with it (``ranking/features.py``): changing it changes
the world's click log, so its output is pinned by ``tests/unit/test_text.py``.
"""

from __future__ import annotations

import re

#: the words :func:`words` drops.
STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "did",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "the",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "whose",
        "with",
    }
)
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str | None) -> list[str]:
    """Lowercased alphanumeric words of ``text`` in order, stopwords dropped (None: no words)."""
    return [w for w in _WORD.findall((text or "").lower()) if w not in STOPWORDS]
