"""LLM annotation: judges (each owning its template and parser), candidate pooling, agreement.

Issue 3. Judges register in ``JUDGES``; ``judge_pairs`` labels (query, document) pairs through the
LLM layer's content-addressed label store, so only missing labels cost calls.
"""

from trustir.annotate.base import JUDGES, Judge, Verdict
from trustir.annotate.run import judge_pairs

__all__ = ["JUDGES", "Judge", "Verdict", "judge_pairs", "get_judge"]


def get_judge(name: str) -> Judge:
    """The registered judge called ``name`` (importing the built-in judges first)."""
    from trustir.annotate import relevance  # noqa: F401  (registers relevance judges)

    return JUDGES.get(name)()
