"""ViDoRe-like visual documents: page images, queries, qrels and, for world pages, the region of
each page that holds the answer (PAPERS.md P6).

A *world page* is a grid of ``blocks_per_side`` x ``blocks_per_side`` fact blocks, each about
one entity of the mini-world: its name in large glyphs and the fact line the world gives it
("born 1967"). An entity's query ("which year was <name> born") is relevant to the pages that
show it, and its answer region on each is the entity's block: so the local supervision can be
checked against the truth. A *folder* gives ``pages/<doc_id>.<png|jpg|jpeg>``, ``queries.jsonl`` and
``qrels/test.tsv`` (BEIR layout; ``qrels/train.tsv`` for training queries), without regions.

Output (``write_collection``): ``pages/<page_id>.png`` at ``image_size``, and ``pages.parquet``
(page_id, split, text, sha256), ``queries.parquet`` (query_id, text, split), ``qrels.parquet``
(query_id, doc_id, relevance, source), ``regions.parquet`` (query_id, page_id, x0, y0, x1, y1 in
pixels). A world page's split is a seeded draw (test pages form the evaluation corpus); a
folder's pages are all searched ("both").
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from PIL import Image, ImageDraw

from trustir.agree.params import AgreeParams
from trustir.io.atomic import write_parquet
from trustir.sources.world import Sizes, build_world
from trustir.sources.world.streams import facet_child_rng
from trustir.sources.world.visual import (
    FONT_BOLD,
    FONT_REGULAR,
    YEAR_WORD,
    _font,
    _wrap_lines,
    card_year,
    png_bytes,
)

#: child stream of the visual facet for these pages (the MMEB tasks use 1-5; append only).
PAGE_STREAM = 11
QUESTION = {
    "person": "which year was {name} born",
    "city": "which year was {name} founded",
    "company": "which year was {name} founded",
    "book": "which year was {name} published",
}
PAGES = {"page_id": pl.String, "split": pl.String, "text": pl.String, "sha256": pl.String}
QUERIES = {"query_id": pl.String, "text": pl.String, "split": pl.String}
REGIONS = {
    "query_id": pl.String,
    "page_id": pl.String,
    "x0": pl.Int64,
    "y0": pl.Int64,
    "x1": pl.Int64,
    "y1": pl.Int64,
}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass
class Collection:
    """A ViDoRe-like collection: images (PNG bytes by page id) and its four tables."""

    images: dict[str, bytes]
    pages: pl.DataFrame
    queries: pl.DataFrame
    qrels: pl.DataFrame
    regions: pl.DataFrame


def render_fact_page(blocks: list[tuple[str, str]], size: int, per_side: int) -> bytes:
    """A page of ``per_side``^2 fact blocks (name, fact line), row-major; a thin frame each."""
    img = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    cell = size // per_side
    big = _font(FONT_BOLD, max(8, cell // 7))
    small = _font(FONT_REGULAR, max(7, cell // 10))
    for k, (name, fact) in enumerate(blocks):
        x0, y0 = (k % per_side) * cell, (k // per_side) * cell
        draw.rectangle([x0 + 1, y0 + 1, x0 + cell - 2, y0 + cell - 2], outline=(200, 200, 200))
        y = y0 + cell // 6
        for line in _wrap_lines(draw, name, big, cell - 8, 2):
            draw.text((x0 + 4, y), line, fill=(0, 0, 0), font=big)
            y += big.size + 2
        draw.text((x0 + 4, y + 4), fact, fill=(60, 60, 60), font=small)
    return png_bytes(img)


def world_collection(scale: float, seed: int, p: AgreeParams) -> Collection:
    """Fact pages over a seeded pool of ``p.entities`` entities of the world of
    ``scale``/``seed``: each page shows ``blocks_per_side``^2 distinct entities in a random
    layout, so an entity recurs on several pages at several places. An entity's query is
    relevant to every page that shows it; its answer region on each is that entity's block.
    Train and test queries share the entity pool (their texts repeat) but never a page: a
    test page is a new layout with new neighbours, and the word-level toy backbone could not
    read an entity name it never saw in training."""
    world = build_world(Sizes.at(scale), seed=seed)
    rng = facet_child_rng(seed, "visual", PAGE_STREAM)
    ents = world.entities.entities
    per_page = p.blocks_per_side**2
    if p.entities < per_page or p.entities > len(ents):
        raise ValueError(f"agree.entities {p.entities} must lie in [{per_page}, {len(ents)}]")
    pool = [ents[j] for j in sorted(rng.choice(len(ents), size=p.entities, replace=False))]
    test = rng.random(p.pages) < p.test_fraction
    cell = p.image_size // p.blocks_per_side
    images, pages, regions = {}, [], []
    queries: dict[str, tuple[str, str, str]] = {}
    for i in range(p.pages):
        page_id, split = f"vp{i:04d}", "test" if test[i] else "train"
        chosen = [pool[j] for j in rng.choice(len(pool), size=per_page, replace=False)]
        blocks = []
        for k, ent in enumerate(chosen):
            fact = f"{YEAR_WORD[ent.etype]} {card_year(world, ent.entity_id, ent.etype)}"
            blocks.append((ent.name, fact))
            qid = f"vq-{ent.entity_id}-{split}"
            queries[qid] = (qid, QUESTION[ent.etype].format(name=ent.name), split)
            x0, y0 = (k % p.blocks_per_side) * cell, (k // p.blocks_per_side) * cell
            regions.append((qid, page_id, x0, y0, x0 + cell, y0 + cell))
        png = render_fact_page(blocks, p.image_size, p.blocks_per_side)
        images[page_id] = png
        text = " ".join(f"{n} {f}" for n, f in blocks)
        pages.append((page_id, split, text, hashlib.sha256(png).hexdigest()))
    if not test.any() or test.all():
        raise ValueError(f"agree: {p.pages} pages give no train/test split; raise agree.pages")
    regions_df = pl.DataFrame(regions, schema=REGIONS, orient="row")
    qrels = regions_df.select(
        "query_id", pl.col("page_id").alias("doc_id"), relevance=pl.lit(1, pl.Int64),
        source=pl.lit("world"),
    )  # fmt: skip
    return Collection(
        images,
        pl.DataFrame(pages, schema=PAGES, orient="row"),
        pl.DataFrame(sorted(queries.values()), schema=QUERIES, orient="row"),
        qrels,
        regions_df,
    )


def folder_collection(folder: Path, size: int) -> Collection:
    """A folder of page images with BEIR-style queries and qrels (no answer regions)."""
    from trustir.io.beir import read_qrels_tsv, read_query_texts

    files = sorted(f for f in (folder / "pages").glob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"{folder / 'pages'}: no page images ({', '.join(IMAGE_SUFFIXES)})")
    images = {}
    for f in files:
        with Image.open(f) as im:
            images[f.stem] = png_bytes(im.convert("RGB").resize((size, size)))
    texts = read_query_texts(folder / "queries.jsonl")
    parts, splits = [], []
    for split in ("train", "test"):
        path = folder / "qrels" / f"{split}.tsv"
        if path.is_file():
            q = read_qrels_tsv(path)
            unknown = sorted(set(q["doc_id"]) - set(images))
            if unknown:
                raise ValueError(f"{path}: doc ids without a page image, e.g. {unknown[:3]}")
            parts.append(q)
            splits.append(q.select("query_id").unique().with_columns(split=pl.lit(split)))
    if not parts:
        raise FileNotFoundError(f"{folder / 'qrels'}: neither test.tsv nor train.tsv")
    split_of = pl.concat(splits).unique("query_id", keep="first")
    queries = texts.join(split_of, on="query_id").select(list(QUERIES))
    pages = pl.DataFrame(
        [(pid, "both", "", hashlib.sha256(b).hexdigest()) for pid, b in images.items()],
        schema=PAGES, orient="row",
    )  # fmt: skip
    return Collection(images, pages, queries, pl.concat(parts), pl.DataFrame(schema=REGIONS))


def write_collection(col: Collection, out: Path) -> dict[str, int]:
    """Write ``col`` into ``out`` atomically (a temp folder renamed into place)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (tmp / "pages").mkdir()
        for page_id, png in col.images.items():
            (tmp / "pages" / f"{page_id}.png").write_bytes(png)
        for name in ("pages", "queries", "qrels", "regions"):
            write_parquet(getattr(col, name), tmp / f"{name}.parquet")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    counts = col.queries.group_by("split").len().sort("split")
    return {f"queries/{s}": n for s, n in counts.iter_rows()} | {"pages": col.pages.height}


def read_collection(folder: Path) -> Collection:
    """The tables written by ``write_collection`` (images stay on disk: ``ImageStore``)."""
    tables = {n: pl.read_parquet(folder / f"{n}.parquet") for n in ("pages", "queries", "qrels",
                                                                     "regions")}  # fmt: skip
    return Collection({}, **tables)
