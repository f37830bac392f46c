"""Visual facet: deterministic renders of the world's entity cards and pages (P2/P7, issue 16).

Every image is drawn with PIL and Debian's DejaVu fonts (``fonts-dejavu-core``) on a fixed
canvas, and comes with an image id and a record of what it states:

- an *entity card* (two variants per entity, ``a`` and ``b``, jittered in position and glyph
  size): a band coloured by entity type across the top, the entity's name in large glyphs, the
  year the world's facts give it (born / founded / published) and its popularity level as 1-5
  filled squares. The layout carries signal a tiny model can learn from pixels in minutes
  (band colour -> type, square count -> level, the name's glyph shape -> the name).
- a *world page* (one per corpus document, up to ``max_pages``): a header bar shaded by the
  hosting domain's authority level, the title in large glyphs, the first words of the text in
  small glyphs below.

Draws (jitter, which pages) come from the facet's own stream (``streams.FACETS["visual"]``),
so adding this facet leaves every other facet's bytes unchanged.
"""

from __future__ import annotations

import hashlib
import io
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl
from PIL import Image, ImageDraw, ImageFont

from trustir.sources.world import World
from trustir.sources.world.streams import facet_rng

#: where Debian's fonts-dejavu-core puts its TrueType files.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = "DejaVuSans.ttf"
FONT_BOLD = "DejaVuSans-Bold.ttf"
#: the band colour of each entity type (RGB).
TYPE_COLOURS = {
    "person": (200, 40, 40),
    "city": (30, 120, 200),
    "company": (40, 160, 60),
    "book": (150, 60, 170),
}
#: the year attribute a card prints, per entity type (the world's facts give its value).
YEAR_ATTRIBUTE = {
    "person": "birth_year",
    "city": "founded",
    "company": "founded_year",
    "book": "published",
}
YEAR_WORD = {"person": "born", "city": "founded", "company": "founded", "book": "published"}
CARD_VARIANTS = ("a", "b")
#: schema of the image records (``states`` is a JSON-free struct-less list of "key=value").
RECORDS = {
    "image_id": pl.String,
    "kind": pl.String,  # "card" | "page"
    "variant": pl.String,  # card variant ("a" / "b"); "" for pages
    "entity_id": pl.String,
    "doc_id": pl.String,  # "" for cards
    "etype": pl.String,
    "name": pl.String,
    "title": pl.String,  # the large-glyph line(s): the name on a card, the title on a page
    "text": pl.String,  # the small-glyph text shown (a page's first words; a card's year line)
    "year": pl.String,  # cards: the printed year
    "level": pl.Int64,  # cards: popularity level (squares); pages: the domain's level
    "sha256": pl.String,  # of the PNG bytes
    "path": pl.String,  # relative to the images folder
}


@dataclass(frozen=True)
class Render:
    """One rendered image: its id, PNG bytes and the record of what it states."""

    image_id: str
    png: bytes
    record: dict


def font_path(name: str) -> Path:
    """A DejaVu font file; a clear error names the Debian package when it is missing."""
    path = FONT_DIR / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: install Debian's fonts-dejavu-core (the Makefile's APT_PACKAGES)"
        )
    return path


@lru_cache(maxsize=64)
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(name)), size)


def png_bytes(img: Image.Image) -> bytes:
    """Deterministic PNG bytes (no metadata, fixed compression)."""
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def _wrap_lines(draw: ImageDraw.ImageDraw, text: str, font, width: int, max_lines: int) -> list:
    """Greedy word wrap to ``width`` pixels, at most ``max_lines`` lines."""
    lines: list[str] = []
    for word in text.split():
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(trial, font=font) <= width:
            lines[-1] = trial
        else:
            lines.append(word)
    return lines[:max_lines]


def render_card(name: str, etype: str, year: str, level: int, size: int, jitter: tuple) -> bytes:
    """An entity card: type-coloured band, the name in large glyphs, the year line, level
    squares. ``jitter`` = (dx, dy, glyph size delta) of the variant."""
    dx, dy, dsize = jitter
    img = Image.new("RGB", (size, size), (250, 250, 245))
    draw = ImageDraw.Draw(img)
    band = size // 5
    draw.rectangle([0, 0, size - 1, band], fill=TYPE_COLOURS[etype])
    big = _font(FONT_BOLD, max(8, size // 7 + dsize))
    y = band + 4 + dy
    for line in _wrap_lines(draw, name, big, size - 8, 2):
        draw.text((4 + dx, y), line, fill=(10, 10, 10), font=big)
        y += big.size + 2
    small = _font(FONT_REGULAR, max(7, size // 10))
    draw.text((4 + dx, size - 2 * small.size - 8), f"{YEAR_WORD[etype]} {year}", fill=(40, 40, 40),
              font=small)  # fmt: skip
    side = max(4, size // 14)
    for k in range(level):
        x0 = 4 + k * (side + 3)
        draw.rectangle([x0, size - side - 4, x0 + side, size - 4], fill=(230, 170, 0))
    return png_bytes(img)


def render_page(title: str, text: str, level: int, size: int, words: int) -> bytes:
    """A world page: a header bar shaded by authority level, the title large, text small."""
    img = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    shade = 60 + 35 * (5 - level)
    draw.rectangle([0, 0, size - 1, size // 10], fill=(shade, shade, shade))
    big = _font(FONT_BOLD, max(8, size // 9))
    y = size // 10 + 3
    for line in _wrap_lines(draw, title, big, size - 6, 2):
        draw.text((3, y), line, fill=(0, 0, 0), font=big)
        y += big.size + 1
    small = _font(FONT_REGULAR, max(6, size // 16))
    body = " ".join(text.split()[:words])
    for line in textwrap.wrap(body, width=max(8, (size - 6) // max(small.size // 2, 1))):
        if y + small.size > size - 2:
            break
        draw.text((3, y), line, fill=(60, 60, 60), font=small)
        y += small.size + 1
    return png_bytes(img)


def card_year(world: World, entity_id: str, etype: str) -> str:
    """The year a card prints: the world's (first) true value of the type's year attribute."""
    return world.entities.answers(entity_id, YEAR_ATTRIBUTE[etype])[0]


def render_world(world: World, seed: int, size: int = 112, max_pages: int | None = 400) -> list:
    """Every card (two variants per entity) and up to ``max_pages`` pages, as ``Render``s.

    ``size`` must be a multiple of 28 (Qwen2-VL's patch 14 x merge 2). Pages are the first
    ``max_pages`` of a seeded permutation of the corpus (drawn from the facet's stream)."""
    if size % 28:
        raise ValueError(f"vision image size {size} must be a multiple of 28")
    rng = facet_rng(seed, "visual")
    out: list[Render] = []
    ents = world.entities.entities
    jitter = rng.integers(0, 4, size=(len(ents), len(CARD_VARIANTS), 3))
    for i, ent in enumerate(ents):
        year = card_year(world, ent.entity_id, ent.etype)
        for j, variant in enumerate(CARD_VARIANTS):
            dx, dy, ds = (int(v) for v in jitter[i, j])
            png = render_card(ent.name, ent.etype, year, ent.level, size, (dx, dy, ds - 1))
            image_id = f"card-{ent.entity_id}-{variant}"
            rec = _record(image_id, "card", variant, ent.entity_id, "", ent.etype, ent.name)
            rec.update(title=ent.name, text=f"{YEAR_WORD[ent.etype]} {year}", year=year)
            rec["level"] = ent.level
            out.append(_finish(image_id, png, rec))
    corpus = world.pages.corpus
    levels = dict(zip(world.web.domains["domain"], world.web.domains["level"], strict=True))
    doc_entity = _doc_entities(world)
    by_id = world.entities.by_id()
    order = rng.permutation(corpus.height)
    if max_pages is not None:
        order = np.sort(order[:max_pages])
    for row in corpus[order.tolist()].iter_rows(named=True):
        ent = by_id[doc_entity[row["doc_id"]]]
        level = int(levels[row["domain"]])
        png = render_page(row["title"], row["text"], level, size, words=24)
        image_id = f"page-{row['doc_id']}"
        rec = _record(image_id, "page", "", ent.entity_id, row["doc_id"], ent.etype, ent.name)
        rec.update(title=row["title"], text=" ".join(row["text"].split()[:24]), level=level)
        out.append(_finish(image_id, png, rec))
    return out


def _doc_entities(world: World) -> dict[str, str]:
    """doc_id -> the entity it is about (the first mention equal to the page's subject)."""
    st = world.pages.statements.select("doc_id", "entity_id").unique("doc_id", keep="first")
    subject = dict(st.iter_rows())
    names = {e.name: e.entity_id for e in world.entities.entities}
    out: dict[str, str] = {}
    mentions: dict[str, list[str]] = {}
    for doc_id, ent in world.pages.mentions.iter_rows():
        mentions.setdefault(doc_id, []).append(ent)
    for doc_id, title in world.pages.corpus.select("doc_id", "title").iter_rows():
        if doc_id in subject:
            out[doc_id] = subject[doc_id]
            continue
        hit = [e for n, e in names.items() if n in title and e in mentions.get(doc_id, [])]
        out[doc_id] = hit[0] if hit else mentions[doc_id][0]
    return out


def _record(image_id, kind, variant, entity_id, doc_id, etype, name) -> dict:
    rec = dict.fromkeys(RECORDS, "")
    rec.update(
        image_id=image_id,
        kind=kind,
        variant=variant,
        entity_id=entity_id,
        doc_id=doc_id,
        etype=etype,
        name=name,
        level=0,
    )
    return rec


def _finish(image_id: str, png: bytes, rec: dict) -> Render:
    rec["sha256"] = hashlib.sha256(png).hexdigest()
    rec["path"] = f"{image_id}.png"
    return Render(image_id=image_id, png=png, record=rec)


def records_table(renders: list[Render]) -> pl.DataFrame:
    """The records of ``renders`` as a frame (schema ``RECORDS``)."""
    return pl.DataFrame([r.record for r in renders], schema=RECORDS, orient="row")
