"""P6 AGREE data and targets: answer regions on the patch grid, world pages, page folders,
page-distinct batches, sequences from cached features, and the target cache."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
import torch

from trustir.agree.grid import mass_inside, pool_to_grid, region_mask
from trustir.agree.pages import folder_collection, read_collection, write_collection
from trustir.agree.params import AgreeParams
from trustir.agree.pipeline import make_collection
from trustir.agree.train import page_distinct_batches
from trustir.vision.params import TinyVLMParams

SMALL = TinyVLMParams(hidden_size=32, heads=2, kv_heads=1, vision_dim=32)


def small_params(**kw) -> AgreeParams:
    base = dict(image_size=112, pages=8, entities=8, test_fraction=0.4, tiny=SMALL, epochs=1)
    return AgreeParams(**(base | kw))


def test_region_mask_on_the_grid() -> None:
    # a 2 x 2 layout on a 4 x 4 grid: the top-right block is patches (0..1, 2..3)
    m = region_mask((56, 0, 112, 56), size=112, grid=4).reshape(4, 4)
    assert m.sum() == 4 and m[:2, 2:].all() and not m[2:].any() and not m[:, :2].any()


def test_pool_to_grid_averages_and_renormalises() -> None:
    maps = torch.arange(16, dtype=torch.float32).reshape(1, 4, 4)
    pooled = pool_to_grid(maps, 2)
    # block means 2.5, 4.5, 10.5, 12.5 over their sum 30
    assert pooled[0].tolist() == pytest.approx([2.5 / 30, 4.5 / 30, 10.5 / 30, 12.5 / 30])


def test_mass_inside() -> None:
    t = np.array([0.1, 0.2, 0.3, 0.4])
    assert mass_inside(t, np.array([False, True, False, True])) == pytest.approx(0.6)


def test_world_pages_record_the_answer_block(tmp_path) -> None:
    p = small_params()
    counts = make_collection(1.0, 13, p, tmp_path, tmp_path / "vd")
    col = read_collection(tmp_path / "vd")
    assert counts["pages"] == 8 and col.pages["split"].unique().sort().to_list() == [
        "test", "train"]  # fmt: skip
    # every qrel has its region, one block of the 2 x 2 layout
    assert col.regions.height == col.qrels.height == 8 * 4
    assert set((col.regions["x1"] - col.regions["x0"]).to_list()) == {56}
    # the query's entity name is on its page, in the block's text order
    texts = dict(col.pages.select("page_id", "text").iter_rows())
    queries = dict(col.queries.select("query_id", "text").iter_rows())
    for q, page in col.qrels.select("query_id", "doc_id").iter_rows():
        name = queries[q].split(" ", 3)[3].rsplit(" ", 1)[0]  # "which year was <name> born"
        assert name in texts[page], (q, page)
    # a query's split is its pages' split
    split = dict(col.pages.select("page_id", "split").iter_rows())
    qsplit = dict(col.queries.select("query_id", "split").iter_rows())
    assert all(qsplit[q] == split[d] for q, d in col.qrels.select("query_id", "doc_id").iter_rows())


def test_folder_collection(tmp_path) -> None:
    from PIL import Image

    (tmp_path / "pages").mkdir()
    (tmp_path / "qrels").mkdir()
    for i, colour in enumerate(["red", "blue", "green"]):
        Image.new("RGB", (300, 200), colour).save(tmp_path / "pages" / f"d{i}.jpg")
    rows = [{"_id": "q1", "text": "red page"}, {"_id": "q2", "text": "blue page"}]
    (tmp_path / "queries.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq2\td1\t1\n")
    (tmp_path / "qrels" / "train.tsv").write_text("q1\td0\t1\n")
    col = folder_collection(tmp_path, 56)
    assert sorted(col.images) == ["d0", "d1", "d2"]
    assert dict(col.queries.select("query_id", "split").iter_rows()) == {"q1": "train",
                                                                         "q2": "test"}  # fmt: skip
    assert col.regions.height == 0 and set(col.pages["split"]) == {"both"}
    write_collection(col, tmp_path / "out")
    with Image.open(tmp_path / "out" / "pages" / "d1.png") as im:
        assert im.size == (56, 56)
    (tmp_path / "qrels" / "test.tsv").write_text("q2\tnope\t1\n")
    with pytest.raises(ValueError, match="test.tsv: doc ids without a page image"):
        folder_collection(tmp_path, 56)


def test_page_distinct_batches_partition_without_repeats() -> None:
    pages = [0, 0, 0, 1, 1, 2, 3, 4, 4, 5]
    batches = page_distinct_batches(pages, 3, np.random.default_rng(0))
    seen = [i for b in batches for i in b]
    assert len(seen) == len(set(seen))
    assert all(len({pages[i] for i in b}) == len(b) >= 2 for b in batches)
    assert len(seen) >= len(pages) - 1  # at most a lone leftover pair is dropped


def test_sequences_with_features_match_encode_inputs(tmp_path) -> None:
    from PIL import Image

    from trustir.agree.features import sequences_with_features, visual_features
    from trustir.agree.pipeline import backbone
    from trustir.vision.sequences import encode_inputs, hidden_states

    p = small_params()
    texts = ["which year was ada born", "which year was bo founded here"]
    vlm = backbone(p, texts)
    images = [Image.new("RGB", (112, 112), c) for c in ("white", "black")]
    feats, grid = visual_features(vlm, images)
    assert feats.shape == (2, 16, 32) and grid.tolist() == [[1, 8, 8]]
    with torch.no_grad():
        a = encode_inputs(vlm, images, texts)
        b = sequences_with_features(vlm, feats, texts, grid)
        assert torch.equal(a.ids, b.ids) and torch.equal(a.positions, b.positions)
        assert torch.allclose(hidden_states(vlm, a), hidden_states(vlm, b), atol=1e-5)


def test_targets_are_cached_by_content(tmp_path, monkeypatch) -> None:
    from trustir.agree.targets import Pair, TargetContext, cached_targets
    from trustir.vision.images import ImageStore

    monkeypatch.setenv("TRUSTIR_CACHE", str(tmp_path / "cache"))
    p = small_params()
    make_collection(1.0, 13, p, tmp_path, tmp_path / "vd")
    col = read_collection(tmp_path / "vd")
    store = ImageStore(tmp_path / "vd" / "pages",
                       col.pages.select(pl.col("page_id").alias("image_id"), "sha256"))  # fmt: skip
    texts = dict(col.queries.select("query_id", "text").iter_rows())
    pairs = [Pair(q, texts[q], d) for q, d in col.qrels.select("query_id", "doc_id").head(6).rows()]
    vocab = [*col.queries["text"], *col.pages["text"]]
    ctx = TargetContext(p, store, col.regions, vocab)
    att, first = cached_targets("mllm_attention", ctx, pairs)
    assert att.shape == (6, 16) and np.allclose(att.sum(axis=1), 1, atol=1e-5)
    assert (att >= 0).all() and first == {"hits": 0, "misses": 6}
    again, second = cached_targets("mllm_attention", ctx, pairs)
    assert second == {"hits": 6, "misses": 0} and np.array_equal(att, again)
    oracle, _ = cached_targets("answer_region", ctx, pairs)
    masks = [region_mask(b, 112, 4) for b in col.regions.head(6).select(
        "x0", "y0", "x1", "y1").rows()]  # fmt: skip
    assert all(mass_inside(o, m) == pytest.approx(1.0) for o, m in zip(oracle, masks, strict=True))
