"""Hard negatives for retriever training: top BM25 documents that are not positives (P3).

D- of a query = its hard negatives (mined here) + the other documents of its batch; a query's
positives are never among its negatives (PAPERS.md P3).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl


def mine_hard_negatives(
    run: pl.DataFrame,
    positives: Mapping[str, Iterable[str]],
    k: int,
    skip_top: int = 0,
    exclude: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, list[str]]:
    """Up to ``k`` documents per query of ``positives``, in the run's rank order.

    Skips the ``skip_top`` best-ranked documents (often unlabelled relevant ones), every positive
    of the query, and any ``exclude[query_id]`` document. Queries absent from the run get [].
    """
    out: dict[str, list[str]] = {q: [] for q in positives}
    if k <= 0 or run.is_empty():
        return out
    ranked = (
        run.filter(pl.col("query_id").is_in(list(positives)))
        .sort(["query_id", "rank"])
        .group_by("query_id", maintain_order=True)
        .agg(pl.col("doc_id"))
    )
    for qid, docs in ranked.iter_rows():
        banned = set(positives[qid]) | set((exclude or {}).get(qid, ()))
        picked: list[str] = []
        for did in docs[skip_top:]:
            if did not in banned and did not in picked:
                picked.append(did)
                if len(picked) == k:
                    break
        out[qid] = picked
    return out
