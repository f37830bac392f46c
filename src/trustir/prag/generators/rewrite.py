"""PRAG's document rewrite: the same facts in other words (one reply per rewrite)."""

from __future__ import annotations

from trustir.prag.generators import GENERATORS, Generator, Unparseable

TEMPLATE = (
    "Rewrite the following passage in your own words (version {index}). Keep every name, "
    "number and fact.\n"
    "Passage: {title}. {text}\nRewritten passage:"
)


def parse_rewrite(reply: str, n: int) -> list[str]:
    """The reply as one rewrite (stripped; an empty reply is unparseable)."""
    text = " ".join(reply.split())
    if len(text) < 8:
        raise Unparseable(f"rewrite reply too short: {reply!r}")
    return [text]


GENERATORS.register("rewrite")(Generator("rewrite", TEMPLATE, "v1", parse_rewrite))
