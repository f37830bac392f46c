"""The visual world, the VLM layer, and the CoCoA / CoMa masks and losses (P2, P7)."""

import math

import numpy as np
import polars as pl
import pytest
import torch

from trustir.sources.world import Sizes, build_world
from trustir.sources.world.streams import facet_rng
from trustir.sources.world.visual import records_table, render_world
from trustir.vision.params import TinyVLMParams, VisionParams
from trustir.vision.tasks import build_tasks, question_only_p1

PARAMS = VisionParams(tiny=TinyVLMParams(hidden_size=32, heads=2, kv_heads=1, vision_dim=32))


@pytest.fixture(scope="module")
def world():
    return build_world(Sizes.at(0.2), seed=13)


@pytest.fixture(scope="module")
def renders(world):
    return render_world(world, seed=13, size=56, max_pages=30)


@pytest.fixture(scope="module")
def vlm(renders):
    from trustir.vision.model import build_tiny

    recs = records_table(renders)
    return build_tiny([*recs["title"], *recs["text"], "what is this"], PARAMS, ["<cmp_0>"])


def _images(renders, n):
    import io

    from PIL import Image

    return [Image.open(io.BytesIO(r.png)).convert("RGB") for r in renders[:n]]


# --- the visual world ------------------------------------------------------------------------
def test_renders_are_deterministic_and_recorded(world, renders):
    again = render_world(world, seed=13, size=56, max_pages=30)
    assert [r.png for r in again] == [r.png for r in renders]
    recs = records_table(renders)
    n_ent = len(world.entities.entities)
    assert recs.filter(pl.col("kind") == "card").height == 2 * n_ent
    assert recs.filter(pl.col("kind") == "page").height == 30
    card = recs.row(0, named=True)
    ent = world.entities.entities[0]
    assert (card["image_id"], card["name"], card["etype"]) == (
        f"card-{ent.entity_id}-a",
        ent.name,
        ent.etype,
    )
    assert card["level"] == ent.level
    assert recs["image_id"].n_unique() == recs.height


def test_visual_facet_has_its_own_stream():
    """The visual facet's stream differs from every other facet's (no shared draws)."""
    draws = {f: facet_rng(13, f).random() for f in ("entities", "pages", "tasks", "visual")}
    assert len(set(draws.values())) == 4


def test_image_size_must_fit_the_patch_grid(world):
    with pytest.raises(ValueError, match="multiple of 28"):
        render_world(world, seed=13, size=60, max_pages=2)


def test_tasks_have_one_positive_and_a_question_only_baseline_at_chance(renders):
    items = build_tasks(records_table(renders), seed=13, k=6)
    assert set(items["task"]) == {"i2t", "t2i", "cls", "vqa"}
    for r in items.iter_rows(named=True):
        assert 0 <= r["positive"] < len(r["candidates"])
        assert len(set(r["candidates"])) == len(r["candidates"])
    vqa = items.filter(pl.col("task") == "vqa")
    base = question_only_p1(vqa)
    # binomial band: 3 standard errors above chance
    band = 3 * math.sqrt(base["chance"] * (1 - base["chance"]) / base["n"])
    assert base["n"] >= 30
    assert base["P@1"] <= base["chance"] + band
    # the questions name nothing about the card
    assert vqa["query_text"].n_unique() == 2


# --- masks -----------------------------------------------------------------------------------
def test_cocoa_mask_by_hand():
    from trustir.vision.masks import EOS, INPUT, RECON, RULES, allowed

    seg = torch.tensor([[INPUT, INPUT, EOS, RECON, RECON]])
    valid = torch.tensor([[False, True, True, True, True]])  # left padding in column 0
    ok = allowed(seg, valid, RULES["cocoa"])[0, 0].int().tolist()
    assert ok == [
        [1, 0, 0, 0, 0],  # a pad row sees only itself (no NaN row)
        [0, 1, 0, 0, 0],
        [0, 1, 1, 0, 0],  # EOS sees the input
        [0, 0, 1, 1, 0],  # the reconstruction sees EOS and itself, never the input
        [0, 0, 1, 1, 1],
    ]


def _input_grad(vlm, seq, rules, loss_of):
    from trustir.vision.masks import INPUT
    from trustir.vision.sequences import hidden_states

    embeds = seq.embeds.detach().clone().requires_grad_(True)
    seq.embeds = embeds
    loss = loss_of(seq, hidden_states(vlm, seq, rules))
    (grad,) = torch.autograd.grad(loss, embeds)
    return grad[(seq.segment == INPUT) & seq.valid].abs().max().item()


def _nll(vlm):
    from trustir.vision.losses import next_token_nll

    return lambda seq, h: next_token_nll(vlm.model.lm_head(h), seq.ids, seq.target)


def test_cocoa_reconstruction_reaches_the_input_only_through_eos(vlm, renders):
    from trustir.vision.masks import EOS, INPUT, RECON, RULES
    from trustir.vision.sequences import append, encode_inputs

    seq = encode_inputs(vlm, _images(renders, 2), ["", ""])
    toks = [vlm.tokenizer.encode(t, add_special_tokens=False) for t in ("what is", "this")]
    seq = append(vlm, seq, toks, [[RECON] * len(t) for t in toks], [[True] * len(t) for t in toks])
    through_eos = _input_grad(vlm, seq, "cocoa", _nll(vlm))
    eos_cut = RULES["cocoa"] - {(EOS, INPUT)}  # EOS no longer reads the input
    cut = _input_grad(vlm, seq, eos_cut, _nll(vlm))
    leak = _input_grad(vlm, seq, eos_cut | {(RECON, INPUT)}, _nll(vlm))
    assert through_eos > 0  # the input matters, through EOS
    assert cut == 0.0  # and through nothing else
    assert leak > 0  # (the probe detects a mask that leaks)


def test_coma_answer_reaches_the_input_only_through_compression_tokens(vlm, renders):
    from trustir.vision.masks import COMP, EOS, INPUT, QA, RULES
    from trustir.vision.sequences import append, encode_inputs

    seq = encode_inputs(vlm, _images(renders, 2), ["", ""])
    cmp_id = vlm.tokenizer.convert_tokens_to_ids("<cmp_0>")
    seq = append(vlm, seq, [[cmp_id], [cmp_id]], [[COMP], [COMP]], [[False], [False]])
    q, a = (vlm.tokenizer.encode(t, add_special_tokens=False) for t in ("what is", "this"))
    seq = append(vlm, seq, [q + a, q + a], [[QA] * 3] * 2, [[False, False, True]] * 2)
    through_comp = _input_grad(vlm, seq, "coma", _nll(vlm))
    comp_cut = RULES["coma"] - {(COMP, INPUT), (COMP, EOS)}
    assert through_comp > 0
    assert _input_grad(vlm, seq, comp_cut, _nll(vlm)) == 0.0
    assert _input_grad(vlm, seq, comp_cut | {(QA, INPUT)}, _nll(vlm)) > 0


# --- losses on hand-worked tensors -------------------------------------------------------------
def test_next_token_nll_by_hand():
    from trustir.vision.losses import next_token_nll

    logits = torch.zeros(1, 3, 2)
    logits[0, 0] = torch.tensor([0.0, math.log(3.0)])  # P(token 1) = 3/4 after column 0
    ids = torch.tensor([[0, 1, 0]])
    target = torch.tensor([[False, True, True]])  # column 2 predicted from column 1: uniform
    got = next_token_nll(logits, ids, target).item()
    assert got == pytest.approx((-math.log(0.75) + math.log(2.0)) / 2)


def test_info_nce_by_hand():
    from trustir.vision.losses import info_nce

    q = torch.tensor([[1.0, 0.0]])
    c = torch.tensor([[[0.0, 1.0], [1.0, 0.0]]])
    got = info_nce(q, c, torch.tensor([1]), tau=0.5).item()
    assert got == pytest.approx(math.log(1 + math.exp(-2.0)))  # scores 0 and 1/0.5


# --- the model layer ---------------------------------------------------------------------------
def test_saved_and_reloaded_model_encodes_the_same(vlm, renders, tmp_path):
    from trustir.vision.model import load_vlm
    from trustir.vision.sequences import eos_embeddings

    images = _images(renders, 3)
    with torch.inference_mode():
        before = eos_embeddings(vlm, images, ["a", "b", "c"])
        text_before = eos_embeddings(vlm, None, ["what is this", "this"])
    vlm.save(tmp_path / "m")
    again = load_vlm(tmp_path / "m", PARAMS)
    with torch.inference_mode():
        after = eos_embeddings(again, images, ["a", "b", "c"])
        text_after = eos_embeddings(again, None, ["what is this", "this"])
    assert torch.allclose(before, after, atol=1e-6)
    assert torch.allclose(text_before, text_after, atol=1e-6)
    assert float((before[0] - before[1]).abs().max()) > 0  # different images differ


def test_embedding_cache_by_image_hash(vlm, renders, tmp_path):
    from trustir.vision.cache import EmbeddingCache
    from trustir.vision.evaluate import embed_inputs
    from trustir.vision.images import ImageStore

    recs = records_table(renders)
    folder = tmp_path / "img"
    folder.mkdir()
    for r in renders[:4]:
        (folder / f"{r.image_id}.png").write_bytes(r.png)
    store = ImageStore(folder, recs)
    inputs = [(renders[0].image_id, "q"), ("", "what is this")]
    cache = EmbeddingCache("fp", tmp_path)
    first = embed_inputs(vlm, inputs, store, cache)
    assert (cache.hits, cache.misses) == (0, 2)
    second = embed_inputs(vlm, inputs, store, EmbeddingCache("fp", tmp_path))
    for x in inputs:
        np.testing.assert_array_equal(first[x], second[x])
