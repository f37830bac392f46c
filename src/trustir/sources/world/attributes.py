"""Entity types and their attributes: value kinds, document phrasings and question phrasings.

Documents state an attribute with one of its ``says`` templates; questions ask for it with one of
its ``asks`` templates. The two sets are written apart on purpose: questions paraphrase (a few
share a word with a few statements), so lexical matching is imperfect. ``{n}`` is the entity's
name and ``{v}`` the rendered value.

Multi-answer attributes (``multi=True``: instruments, languages, products, themes) have two or
three valid values; a document states one or two of them and is correct when every value it
states is valid. A QA facet should accept any valid value (``answers`` = all of them).
"""

from __future__ import annotations

from dataclasses import dataclass

from trustir.sources.world import lexicon as lx


@dataclass(frozen=True)
class Attribute:
    """One attribute of an entity type."""

    name: str
    #: "pool" (a word from ``pool``), "entity" (the name of an entity of type ``target``),
    #: "year" (an int in [low, high]), "count" (a rounded int, log-uniform in [low, high]).
    kind: str
    says: tuple[str, ...]
    asks: tuple[str, ...]
    pool: tuple[str, ...] = ()
    target: str = ""
    multi: bool = False
    low: int = 0
    high: int = 0
    #: relative frequency with which documents state this attribute.
    weight: float = 1.0


# fmt: off
PERSON = (
    Attribute(
        "birthplace", "entity", target="city", weight=1.4,
        says=(
            "{n} was born in {v}.", "{n} is a native of {v}.", "{v} is the birthplace of {n}.",
            "{n} hails from {v}.", "{n} spent an early childhood in {v}, the family home town.",
            "{n} came into the world in {v}.",
        ),
        asks=(
            "where was {n} born", "what is the hometown of {n}", "{n} place of origin",
            "which town does {n} come from", "where is {n} from originally",
            "in what city did {n} grow up",
        ),
    ),
    Attribute(
        "birth_year", "year", low=1900, high=2004,
        says=(
            "{n} was born in {v}.", "{n} (born {v}) is widely known.",
            "{n} arrived in {v}, the year of a great flood.",
            "Records show {n} was registered at birth in {v}.",
        ),
        asks=(
            "what year was {n} born", "how old is {n}", "{n} date of birth",
            "in which year did {n} come into the world", "when is the birthday year of {n}",
        ),
    ),
    Attribute(
        "occupation", "pool", pool=lx.OCCUPATIONS, weight=1.3,
        says=(
            "{n} works as a {v}.", "By profession, {n} is a {v}.",
            "{n} has made a career as a {v}.", "{n}, a {v} by trade, keeps busy.",
            "{n} earns a living as a {v}.", "{n} trained as a {v} and still practises.",
        ),
        asks=(
            "what is {n}'s job", "what does {n} do for a living", "{n} profession",
            "what line of work is {n} in", "what kind of work does {n} do",
        ),
    ),
    Attribute(
        "instruments", "pool", pool=lx.INSTRUMENTS, multi=True,
        says=(
            "{n} plays the {v}.", "{n} is an accomplished {v} player.",
            "On stage, {n} performs on the {v}.", "{n} took up the {v} at an early age.",
            "{n} practises the {v} every evening.",
        ),
        asks=(
            "which instruments does {n} play", "what musical instrument can {n} perform on",
            "what does {n} play in concerts", "instrument of {n}", "{n} music skills",
        ),
    ),
    Attribute(
        "languages", "pool", pool=lx.LANGUAGES, multi=True,
        says=(
            "{n} speaks {v}.", "{n} is fluent in {v}.", "{n} gives interviews in {v}.",
            "{n} writes and talks in {v}.", "Besides other skills, {n} has a command of {v}.",
        ),
        asks=(
            "what languages does {n} know", "which tongues can {n} converse in",
            "languages spoken by {n}", "what can {n} speak besides english",
            "is {n} multilingual",
        ),
    ),
    Attribute(
        "award", "pool", pool=lx.AWARDS, weight=0.8,
        says=(
            "{n} received the {v}.", "{n} was honoured with the {v}.",
            "In recognition of a long career, {n} won the {v}.", "{n} is a recipient of the {v}.",
            "The {v} went to {n}.",
        ),
        asks=(
            "what prize did {n} win", "which award was given to {n}", "what honors has {n} got",
            "{n} accolades", "what distinction did {n} earn",
        ),
    ),
)

CITY = (
    Attribute(
        "country", "pool", pool=lx.COUNTRIES, weight=1.5,
        says=(
            "{n} is a city in {v}.", "{n} lies in the north of {v}.",
            "The {v} city of {n} is growing.", "{n} belongs to {v}.",
            "{n} is one of the larger towns of {v}.", "{n}, in {v}, is a regional centre.",
        ),
        asks=(
            "what country is {n} in", "which nation does {n} belong to",
            "{n} is located in which state", "in what land is {n}",
            "which country has the city {n}",
        ),
    ),
    Attribute(
        "river", "pool", pool=lx.RIVERS,
        says=(
            "{n} sits on the banks of the {v}.", "The {v} flows through {n}.",
            "{n} was built where the {v} meets the sea.", "The {v} river crosses {n}.",
            "Barges on the {v} still reach {n}.",
        ),
        asks=(
            "what river runs through {n}", "which waterway passes {n}",
            "name of the river in {n}", "which stream is {n} on",
        ),
    ),
    Attribute(
        "population", "count", low=5_000, high=3_000_000,
        says=(
            "{n} has about {v} inhabitants.", "Around {v} people live in {n}.",
            "{n} is home to roughly {v} residents.", "The population of {n} is close to {v}.",
        ),
        asks=(
            "how many people live in {n}", "what is the population of {n}", "how big is {n}",
            "number of residents of {n}", "{n} size in people",
        ),
    ),
    Attribute(
        "founded", "year", low=800, high=1950, weight=0.8,
        says=(
            "{n} was founded in {v}.", "{n} dates back to {v}.", "Settlers established {n} in {v}.",
            "The first houses of {n} were built in {v}.",
        ),
        asks=(
            "when was {n} founded", "how old is the city of {n}", "in what year was {n} settled",
            "founding date of {n}", "when did people first build {n}",
        ),
    ),
    Attribute(
        "landmark", "pool", pool=lx.LANDMARKS,
        says=(
            "{n} is known for its {v}.", "Visitors to {n} rarely miss the {v}.",
            "The {v} is the pride of {n}.", "The most photographed sight in {n} is its {v}.",
        ),
        asks=(
            "what is {n} famous for", "main tourist attraction in {n}",
            "which sight should you see in {n}", "what to visit in {n}",
        ),
    ),
    Attribute(
        "city_languages", "pool", pool=lx.LANGUAGES, multi=True, weight=0.8,
        says=(
            "In {n}, people speak {v}.", "Street signs in {n} are written in {v}.",
            "The official languages of {n} are {v}.", "Schools in {n} teach in {v}.",
        ),
        asks=(
            "what languages are spoken in {n}", "which tongue do residents of {n} use",
            "language of {n}", "what do people in {n} talk",
        ),
    ),
)

COMPANY = (
    Attribute(
        "founder", "entity", target="person", weight=1.4,
        says=(
            "{n} was founded by {v}.", "{v} started {n} in a garage.",
            "{v} is the founder of {n}.", "{n} began as a project of {v}.",
            "{v} set up {n} with borrowed money.",
        ),
        asks=(
            "who founded {n}", "who started {n}", "who created the company {n}",
            "founder of {n}", "whose idea was {n}",
        ),
    ),
    Attribute(
        "headquarters", "entity", target="city", weight=1.2,
        says=(
            "{n} is headquartered in {v}.", "{n} has its main office in {v}.",
            "{n} is based in {v}.", "The head office of {n} stands in {v}.",
            "Staff of {n} mostly work from its offices in {v}.",
        ),
        asks=(
            "where is {n} based", "in which city is the head office of {n}",
            "where are the headquarters of {n}", "location of {n}", "where does {n} operate from",
        ),
    ),
    Attribute(
        "founded_year", "year", low=1850, high=2020,
        says=(
            "{n} was established in {v}.", "{n} opened for business in {v}.",
            "{n} has been trading since {v}.", "{n} filed its first accounts in {v}.",
        ),
        asks=(
            "when was {n} founded", "what year did {n} start", "how long has {n} existed",
            "{n} year of creation",
        ),
    ),
    Attribute(
        "industry", "pool", pool=lx.INDUSTRIES,
        says=(
            "{n} is a {v} company.", "{n} operates in the {v} sector.",
            "{n} makes its money in the {v} business.", "{n} is a leading name in {v}.",
        ),
        asks=(
            "what industry is {n} in", "what business is {n} in", "what field does {n} work in",
            "what sector does {n} belong to",
        ),
    ),
    Attribute(
        "products", "pool", pool=lx.PRODUCTS, multi=True,
        says=(
            "{n} makes {v}.", "{n} is best known for its {v}.", "The catalogue of {n} lists {v}.",
            "{n} manufactures {v}.",
        ),
        asks=(
            "what does {n} sell", "what products does {n} manufacture",
            "which goods are produced by {n}", "{n} product range",
        ),
    ),
    Attribute(
        "ceo", "entity", target="person", weight=0.8,
        says=(
            "{n} is led by chief executive {v}.", "{v} runs {n} as its CEO.",
            "{v} has headed {n} for several years.", "The current boss of {n} is {v}.",
        ),
        asks=(
            "who is the ceo of {n}", "who runs {n}", "who leads {n}", "who manages {n} today",
            "{n} chief executive",
        ),
    ),
)

BOOK = (
    Attribute(
        "author", "entity", target="person", weight=1.5,
        says=(
            "{n} was written by {v}.", "{v} wrote {n}.", "{n} is a novel by {v}.",
            "{v} is the author of {n}.", "{v} spent six years on {n}.",
        ),
        asks=(
            "who wrote {n}", "author of {n}", "who is the writer behind {n}", "{n} novelist",
            "whose book is {n}",
        ),
    ),
    Attribute(
        "published", "year", low=1850, high=2023,
        says=(
            "{n} was published in {v}.", "{n} first appeared in print in {v}.",
            "{n} came out in {v}.", "The first edition of {n} dates from {v}.",
        ),
        asks=(
            "when was {n} released", "what year did {n} come out", "publication date of {n}",
            "how old is the book {n}",
        ),
    ),
    Attribute(
        "genre", "pool", pool=lx.GENRES,
        says=(
            "{n} is a {v} novel.", "Critics describe {n} as {v}.", "{n} belongs to the {v} genre.",
            "Shops shelve {n} under {v}.",
        ),
        asks=(
            "what genre is {n}", "what kind of book is {n}", "what type of story is {n}",
            "{n} category",
        ),
    ),
    Attribute(
        "setting", "entity", target="city",
        says=(
            "{n} is set in {v}.", "The story of {n} takes place in {v}.",
            "{n} follows a family in {v}.", "The plot of {n} unfolds in {v}.",
        ),
        asks=(
            "where does {n} take place", "what is the setting of {n}", "in which city is {n} set",
            "location of the story {n}",
        ),
    ),
    Attribute(
        "book_language", "pool", pool=lx.LANGUAGES, weight=0.7,
        says=(
            "{n} was originally written in {v}.", "The first draft of {n} was in {v}.",
            "{n} appeared first in {v}.",
        ),
        asks=(
            "what language was {n} written in", "original language of {n}",
            "in which tongue was {n} composed",
        ),
    ),
    Attribute(
        "themes", "pool", pool=lx.THEMES, multi=True,
        says=(
            "{n} explores {v}.", "{n} deals with {v}.", "Themes of {v} run through {n}.",
            "At its heart, {n} is about {v}.",
        ),
        asks=(
            "what is {n} about", "what topics does {n} cover", "main themes of {n}",
            "what subjects does {n} treat",
        ),
    ),
)
# fmt: on

#: entity type -> its attributes (the order is part of the generator: append only).
ATTRIBUTES: dict[str, tuple[Attribute, ...]] = {
    "person": PERSON,
    "city": CITY,
    "company": COMPANY,
    "book": BOOK,
}
#: share of each entity type among the entities.
TYPE_SHARE: dict[str, float] = {"person": 0.4, "city": 0.2, "company": 0.2, "book": 0.2}
#: how a later sentence refers to an entity instead of repeating its name (by type).
REFERENCES: dict[str, tuple[str, ...]] = {
    "person": (),  # a pronoun from the first name: "She" / "He"
    "city": ("The city", "The town"),
    "company": ("The company", "The firm"),
    "book": ("The novel", "The book"),
}
#: title patterns of documents that state facts / only mention the entity.
TITLES = ("{n}", "{n}", "About {n}", "{n}: profile", "{n} facts", "Notes on {n}", "{n} overview")
NEWS_TITLES = ("{n} in the news", "Latest on {n}", "{n}: what people say", "Talking about {n}")


def attribute(etype: str, name: str) -> Attribute:
    """The attribute ``name`` of entity type ``etype``."""
    for attr in ATTRIBUTES[etype]:
        if attr.name == name:
            return attr
    raise KeyError(f"entity type {etype!r} has no attribute {name!r}")
