"""Documents with neither title nor text (real BEIR folders have some): warn, keep or drop.

A document with a title but an empty text is ordinary (it is embedded as its title, BEIR's
``title + " " + text``). One with neither is kept by default (``data.empty_docs: keep``: it is
unretrievable, as in BEIR) or dropped (``drop``); dropping fails only where evaluation would be
wrong: when a dropped document is judged relevant (its judgment would vanish with it) or when no
document with content is left.
"""

from __future__ import annotations

import logging

import polars as pl

log = logging.getLogger(__name__)

#: how many ids a warning or error names.
N_EXAMPLES = 5
EMPTY_DOC_POLICIES = ("keep", "drop")


class EmptyDocumentsError(ValueError):
    """Dropping empty documents would make the evaluation wrong."""


def _blank(column: str) -> pl.Expr:
    return pl.col(column).fill_null("").str.strip_chars() == ""


def empty_documents(corpus: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``corpus`` whose title and text are both empty (or only whitespace)."""
    title = _blank("title") if "title" in corpus.columns else pl.lit(True)
    return corpus.filter(title & _blank("text"))


def handle_empty_documents(
    tables: dict[str, pl.DataFrame], policy: str, where: str
) -> dict[str, pl.DataFrame]:
    """Warn about documents with neither title nor text (count and a few ids) and apply
    ``policy`` (``keep`` | ``drop``); ``where`` names the folder in the messages.

    ``drop`` also drops those documents' non-positive judgments (grade <= 0); it raises
    :class:`EmptyDocumentsError` when a dropped document is judged relevant or nothing is left.
    """
    if policy not in EMPTY_DOC_POLICIES:
        raise ValueError(f"data.empty_docs must be one of {EMPTY_DOC_POLICIES}, got {policy!r}")
    corpus = tables["corpus"]
    empty = empty_documents(corpus)
    if empty.height == 0:
        return tables
    ids = empty["doc_id"].head(N_EXAMPLES).to_list()
    if empty.height == corpus.height:
        raise EmptyDocumentsError(
            f"{where}: all {corpus.height} documents have neither title nor text: nothing to index"
        )
    log.warning(
        "%s: %d documents have neither title nor text (e.g. %s); %s",
        where,
        empty.height,
        ", ".join(ids),
        "kept (unretrievable)" if policy == "keep" else "dropped (data.empty_docs: drop)",
    )
    if policy == "keep":
        return tables
    gone = pl.col("doc_id").is_in(empty["doc_id"].implode())
    qrels = tables["qrels"]
    judged = qrels.filter(gone & (pl.col("relevance") > 0))
    if judged.height:
        pairs = [f"{q}/{d}" for q, d in judged.select("query_id", "doc_id").head(N_EXAMPLES).rows()]
        raise EmptyDocumentsError(
            f"{where}: data.empty_docs is 'drop' but {judged.height} relevance judgments name "
            f"empty documents (e.g. {', '.join(pairs)}); dropping them would change the "
            "evaluation: set data.empty_docs: keep"
        )
    return tables | {"corpus": corpus.filter(~gone), "qrels": qrels.filter(~gone)}
