"""Seeded random streams, one per facet of the world, at fixed positions.

Every facet draws from its own child of ``np.random.SeedSequence(seed)``; the child index of a
facet never changes, so adding a facet (or drawing more from one) leaves the others' bytes alone.
Append new facets at the end of ``FACETS``; never reorder or remove an entry.
"""

from __future__ import annotations

import numpy as np

#: facet name -> child index of the root SeedSequence (append only).
FACETS: dict[str, int] = {
    "entities": 0,
    "web": 1,
    "pages": 2,
    "queries": 3,
    "clicks": 4,
    "qa": 5,
    "tasks": 6,
    "visual": 7,
}
#: children spawned from the root; room for facets still to come.
N_STREAMS = 16


def facet_rng(seed: int, facet: str) -> np.random.Generator:
    """The random generator of ``facet`` for world ``seed`` (same inputs, same stream)."""
    try:
        index = FACETS[facet]
    except KeyError:
        raise KeyError(f"unknown world facet {facet!r}; known: {', '.join(FACETS)}") from None
    child = np.random.SeedSequence(seed).spawn(N_STREAMS)[index]
    return np.random.Generator(np.random.PCG64(child))


def facet_child_rng(seed: int, facet: str, child: int, n_children: int = 16) -> np.random.Generator:
    """Child stream ``child`` of ``facet``'s stream (for parts of a facet drawn apart)."""
    if facet not in FACETS:
        raise KeyError(f"unknown world facet {facet!r}; known: {', '.join(FACETS)}")
    parent = np.random.SeedSequence(seed).spawn(N_STREAMS)[FACETS[facet]]
    return np.random.Generator(np.random.PCG64(parent.spawn(n_children)[child]))
