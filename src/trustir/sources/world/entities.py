"""Entities facet: people, cities, companies and books with Zipf popularity and true attributes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from trustir.schema import conform
from trustir.sources.world import lexicon as lx
from trustir.sources.world.attributes import ATTRIBUTES, TYPE_SHARE, Attribute

#: Zipf exponent of entity popularity.
POPULARITY_EXPONENT = 1.0
N_LEVELS = 5


@dataclass(frozen=True)
class Entity:
    """One entity; ``pronoun`` is how later sentences about a person refer to them."""

    entity_id: str
    name: str
    etype: str
    popularity: float
    level: int
    pronoun: str = ""


@dataclass(frozen=True)
class EntityWorld:
    """The entities facet: the entities and their true facts.

    ``facts[(entity_id, attribute)]`` is the tuple of valid values (one unless the attribute is
    multi-answer); values of "entity" attributes are entity ids, others display strings.
    """

    entities: tuple[Entity, ...]
    facts: dict[tuple[str, str], tuple[str, ...]]

    def short_name(self, entity_id: str) -> str:
        """How a page or a user abbreviates the name: a surname, a company's first word."""
        ent = self.by_id()[entity_id]
        return short_name(ent.name, ent.etype)

    def by_id(self) -> dict[str, Entity]:
        return {e.entity_id: e for e in self.entities}

    def of_type(self, etype: str) -> list[Entity]:
        return [e for e in self.entities if e.etype == etype]

    def table(self) -> pl.DataFrame:
        """The ``entities`` table (entity_id, name, popularity, level)."""
        df = pl.DataFrame(
            {
                "entity_id": [e.entity_id for e in self.entities],
                "name": [e.name for e in self.entities],
                "popularity": [e.popularity for e in self.entities],
                "level": [e.level for e in self.entities],
            }
        )
        return conform(df, "entities")

    def answers(self, entity_id: str, attribute: str) -> list[str]:
        """The valid values of a fact as display strings (entity ids resolved to names)."""
        names = {e.entity_id: e.name for e in self.entities}
        return [names.get(v, v) for v in self.facts[(entity_id, attribute)]]


def short_name(name: str, etype: str) -> str:
    """The abbreviated name of an entity: a person's surname, a company's first word, a book's
    title without its article; a city its stem ("Port Ashmora" -> "Ashmora")."""
    words = name.split(" ")
    if etype == "person":
        return words[-1]
    if etype == "company":
        return words[0]
    if etype == "city" and len(words) > 1:
        return words[1] if words[0] in ("Port", "New", "Upper") else words[0]
    if etype == "book" and words[0] in ("The", "A") and len(words) > 1:
        return " ".join(words[1:])
    return name


def id_width(n: int, minimum: int) -> int:
    """Zero-padding width of ids for ``n`` items: at least ``minimum`` digits."""
    return max(minimum, len(str(n)))


def quantile_levels(values: np.ndarray, n_levels: int = N_LEVELS) -> np.ndarray:
    """Levels 1..n_levels by rank quantiles of ``values`` (ascending; ties by position)."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[order] = np.arange(len(values))
    return 1 + (ranks * n_levels) // max(len(values), 1)


def type_counts(n: int) -> dict[str, int]:
    """How many entities of each type (at least two of each)."""
    counts = {t: max(2, int(round(n * s))) for t, s in TYPE_SHARE.items()}
    first = next(iter(counts))
    counts[first] += n - sum(counts.values())
    return counts


def _unique_names(etype: str, n: int, rng: np.random.Generator, taken: set[str]) -> list[str]:
    """``n`` new names of type ``etype``; names are distinct up to case and a leading article
    ("The Silent Harbor" excludes "A Silent Harbor"); rarer forms are used after many retries."""
    make = NAMERS[etype]
    out: list[str] = []
    for _ in range(n):
        name = make(rng, 1.0)
        tries = 0
        while _name_key(name) in taken:
            tries += 1
            # after many retries draw name parts uniformly (rarer names), then add a variant
            name = make(rng, 1.0 if tries < 50 else 0.0)
            if tries >= 100:
                name = _variant(name, etype, tries)
        taken.add(_name_key(name))
        out.append(name)
    return out


def _variant(name: str, etype: str, k: int) -> str:
    """A rarer form of ``name`` once the common ones are taken (a middle initial for people)."""
    if etype == "person":
        first, last = name.split(" ", 1)
        return f"{first} {chr(ord('A') + k % 26)}. {last}"
    return f"{name} {k}"


def _name_key(name: str) -> str:
    words = name.lower().split(" ")
    return " ".join(words[1:] if words[0] in ("the", "a") and len(words) > 1 else words)


def _zipf_choice(pool: tuple[str, ...], rng: np.random.Generator, exponent: float = 1.0) -> str:
    """A word of ``pool``, the first ones far more often: shared name parts make names
    ambiguous, as real names are."""
    weights = 1.0 / np.arange(1, len(pool) + 1) ** exponent
    return pool[int(rng.choice(len(pool), p=weights / weights.sum()))]


# name makers: ``skew`` scales the Zipf exponents (0 = uniform draws)
def _person(rng: np.random.Generator, skew: float) -> str:
    first = (lx.FEMALE_FIRST, lx.MALE_FIRST)[int(rng.integers(2))]
    return f"{_zipf_choice(first, rng, 1.3 * skew)} {_zipf_choice(lx.SURNAMES, rng, skew)}"


def _city(rng: np.random.Generator, skew: float) -> str:
    stem = _zipf_choice(lx.CITY_PREFIX, rng, 1.1 * skew)
    stem += _zipf_choice(lx.CITY_SUFFIX, rng, 1.1 * skew)
    return _zipf_choice(lx.CITY_PATTERN, rng, 0.3 * skew).format(x=stem)


def _company(rng: np.random.Generator, skew: float) -> str:
    head = _zipf_choice(lx.COMPANY_HEAD, rng, 1.2 * skew)
    head += _zipf_choice(lx.COMPANY_TAIL, rng, 1.2 * skew)
    return f"{head} {_zipf_choice(lx.COMPANY_KIND, rng, 0.5 * skew)}"


def _book(rng: np.random.Generator, skew: float) -> str:
    return _zipf_choice(lx.BOOK_PATTERN, rng, 0.3 * skew).format(
        a=_zipf_choice(lx.BOOK_ADJ, rng, skew),
        n=_zipf_choice(lx.BOOK_NOUN, rng, skew),
        c=_zipf_choice(lx.COUNTRIES, rng, skew),
    )


NAMERS = {"person": _person, "city": _city, "company": _company, "book": _book}


def _pronoun(name: str) -> str:
    return "She" if name.split(" ", 1)[0] in lx.FEMALE_FIRST else "He"


def make_entities(n: int, rng: np.random.Generator) -> tuple[Entity, ...]:
    """``n`` entities of mixed types, Zipf popularity (random ranks) and popularity levels."""
    counts = type_counts(n)
    types = np.array([t for t, c in counts.items() for _ in range(c)])
    types = types[rng.permutation(n)]
    taken: set[str] = set()
    names_by_type = {t: iter(_unique_names(t, c, rng, taken)) for t, c in counts.items()}
    ranks = rng.permutation(n) + 1
    popularity = ranks.astype(np.float64) ** -POPULARITY_EXPONENT
    popularity /= popularity.sum()
    levels = quantile_levels(popularity)
    width = id_width(n, 4)
    out = []
    for i, etype in enumerate(types.tolist()):
        name = next(names_by_type[etype])
        out.append(
            Entity(
                entity_id=f"e{i + 1:0{width}d}",
                name=name,
                etype=etype,
                popularity=float(popularity[i]),
                level=int(levels[i]),
                pronoun=_pronoun(name) if etype == "person" else "",
            )
        )
    return tuple(out)


def round_count(x: float) -> int:
    """``x`` rounded to three significant digits (how a page would quote a population)."""
    digits = max(int(np.floor(np.log10(max(x, 1.0)))) - 2, 0)
    return int(round(x / 10**digits) * 10**digits)


def draw_value(
    attr: Attribute, rng: np.random.Generator, candidates: list[str], exclude: tuple[str, ...] = ()
) -> str:
    """One value of ``attr`` (not in ``exclude``); ``candidates`` are the ids of "entity" kinds."""
    for _ in range(100):
        if attr.kind == "pool":
            value = attr.pool[int(rng.integers(len(attr.pool)))]
        elif attr.kind == "entity":
            value = candidates[int(rng.integers(len(candidates)))]
        elif attr.kind == "year":
            value = str(int(rng.integers(attr.low, attr.high + 1)))
        elif attr.kind == "count":
            lo, hi = np.log(attr.low), np.log(attr.high)
            value = f"{round_count(float(np.exp(rng.uniform(lo, hi)))):,}"
        else:
            raise ValueError(f"unknown attribute kind {attr.kind!r}")
        if value not in exclude:
            return value
    raise RuntimeError(f"cannot draw a value of {attr.name!r} outside {exclude}")


def make_facts(
    entities: tuple[Entity, ...], rng: np.random.Generator
) -> dict[tuple[str, str], tuple[str, ...]]:
    """The true values of every attribute of every entity (2-3 values for multi-answer ones)."""
    ids_by_type = {t: [e.entity_id for e in entities if e.etype == t] for t in ATTRIBUTES}
    facts: dict[tuple[str, str], tuple[str, ...]] = {}
    for ent in entities:
        for attr in ATTRIBUTES[ent.etype]:
            candidates = [i for i in ids_by_type.get(attr.target, []) if i != ent.entity_id]
            values: tuple[str, ...] = ()
            for _ in range(int(rng.integers(2, 4)) if attr.multi else 1):
                values += (draw_value(attr, rng, candidates, exclude=values),)
            facts[(ent.entity_id, attr.name)] = values
    return facts


def generate_entities(n: int, rng: np.random.Generator) -> EntityWorld:
    """The entities facet: ``n`` entities and their facts, drawn from ``rng`` in a fixed order."""
    entities = make_entities(n, rng)
    return EntityWorld(entities=entities, facts=make_facts(entities, rng))
