"""P10 LVLM knowledge boundaries (issue 17): perturbations, VQA items, the VLM backend through
the label store, the consistency rows and the table's metrics, with hand-worked values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from PIL import Image

from trustir.lvlm.collect import SAMPLES, parse_rephrasing
from trustir.lvlm.params import LvlmParams
from trustir.lvlm.perturb import blur, crop, image_sha, noise, perturb
from trustir.lvlm.report import judge_all, metrics_table


def _image(size: int = 28) -> Image.Image:
    px = (np.arange(size * size * 3).reshape(size, size, 3) * 7 % 256).astype(np.uint8)
    return Image.fromarray(px, "RGB")


# --- perturbations ---------------------------------------------------------------------------


def test_perturbations_are_seeded_and_deterministic():
    img, p = _image(), LvlmParams()
    for kind in ("blur", "noise", "crop"):
        a, b = perturb(img, kind, p, seed=3), perturb(img, kind, p, seed=3)
        assert image_sha(a) == image_sha(b), kind
        assert a.size == img.size and image_sha(a) != image_sha(img), kind
    assert image_sha(noise(img, 16.0, 3)) != image_sha(noise(img, 16.0, 4))


def test_noise_is_the_rounded_clipped_gaussian_of_its_seed():
    img = Image.new("RGB", (4, 4), (128, 0, 255))
    z = np.random.default_rng(7).normal(0.0, 10.0, (4, 4, 3))
    want = np.clip(np.rint(np.array([128.0, 0.0, 255.0]) + z), 0, 255).astype(np.uint8)
    assert np.array_equal(np.asarray(noise(img, 10.0, 7)), want)


def test_crop_is_the_seeded_window_resized_back():
    img = _image(20)
    rng = np.random.default_rng(5)  # keep 0.5 of 20 = a 10 x 10 window, offsets in [0, 10]
    x0, y0 = int(rng.integers(0, 11)), int(rng.integers(0, 11))
    want = img.crop((x0, y0, x0 + 10, y0 + 10)).resize((20, 20), Image.Resampling.BICUBIC)
    assert np.array_equal(np.asarray(crop(img, 0.5, 5)), np.asarray(want))


def test_blur_of_a_uniform_image_is_the_image():
    img = Image.new("RGB", (8, 8), (90, 90, 90))
    assert np.array_equal(np.asarray(blur(img, 2.0)), np.asarray(img))


# --- rephrasings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "want"),
    [
        ("Rewritten question: How big is Elsdale?", "How big is Elsdale?"),
        ('"Where was Tomas born?"\nmore text', "Where was Tomas born?"),
        ("\n\n  New question: Who founded X?", "Who founded X?"),
        ("", "ORIGINAL"),
        ("123 ...", "ORIGINAL"),
    ],
)
def test_parse_rephrasing(reply: str, want: str):
    assert parse_rephrasing(reply, "ORIGINAL") == want


# --- the table -------------------------------------------------------------------------------


def _rows(model, qid, kind, index, text, lps=(-0.1,)):
    return (model, qid, kind, index, text, ["t"] * len(lps), list(lps), float(sum(lps)))


def test_consistency_of_identical_answers_is_one_and_of_disjoint_ones_zero():
    p = LvlmParams(models=["vlm"], methods=["lexical_consistency"], n=3, rephrasings=2)
    rows = []
    for qid, other in (("q1", "Paris"), ("q2", "Lyon")):
        rows += [_rows("vlm", qid, "answer", "greedy", "Paris")]
        rows += [
            _rows("vlm", qid, "answer", str(i), t)
            for i, t in enumerate(["paris.", "The Paris", other])
        ]
        rows += [_rows("vlm", qid, "verbalized", "greedy", "Paris | 0.9")]
        rows += [_rows("vlm", qid, "rephrased", str(j), other) for j in range(2)]
        rows += [_rows("vlm", qid, "perturbed", k, "Paris") for k in ("blur", "crop", "noise")]
    samples = pl.DataFrame(rows, schema=SAMPLES, orient="row")
    vqa = pl.DataFrame({"qid": ["q1", "q2"], "answers": [["Paris"], ["Rome"]]})
    j = judge_all(samples, vqa, p)
    conf = {(r, q): c for r, q, c in j.select("row", "qid", "confidence").iter_rows()}
    # q1: samples paris / paris / paris vs greedy Paris (SQuAD normalisation) -> 3/3
    assert conf[("vlm/lexical_consistency", "q1")] == 1.0
    assert conf[("vlm/lexical_consistency", "q2")] == pytest.approx(2 / 3)
    assert conf[("vlm/lexical_consistency@perturbed", "q1")] == 1.0
    assert conf[("vlm/lexical_consistency@rephrased", "q1")] == 1.0  # rephrased replies "Paris"
    assert conf[("vlm/lexical_consistency@rephrased", "q2")] == 0.0  # "Lyon" twice
    ok = dict(j.filter(pl.col("row") == "vlm/lexical_consistency").select("qid", "correct").rows())
    assert ok == {"q1": 1, "q2": 0}  # gold Rome for q2


def test_metrics_cells_are_the_hand_worked_values_and_per_item_means():
    judged = pl.DataFrame(
        {
            "row": ["text/x"] * 4,
            "model": ["text"] * 4,
            "qid": ["a", "b", "c", "d"],
            "answer": ["", "", "", ""],
            "confidence": [0.9, 0.8, 0.3, 0.2],
            "correct": [1, 1, 0, 1],
        }
    )
    p = LvlmParams(models=["text"])
    rep = metrics_table(judged, p, "t", None)
    cell = rep.table.cells["text/x"]
    # ECE (10 bins): one question per bin, gaps .1 .2 .3 .8 -> 1.4 / 4
    assert cell["ece"] == pytest.approx(0.35)
    assert cell["auroc"] == pytest.approx(2 / 3)  # pos {.9,.8,.2} vs neg {.3}: 2 of 3 pairs
    assert cell["brier"] == pytest.approx((0.01 + 0.04 + 0.09 + 0.64) / 4)
    assert cell["accuracy"] == 0.75 and cell["confidence"] == pytest.approx(0.55)
    pq = rep.table.per_query
    for col, want in cell.items():
        got = pq.filter(pl.col("column") == col)["value"].mean()
        assert got == pytest.approx(want), col
    assert sum(b["count"] for b in rep.details["reliability"]["text/x"]) == 4


def test_methods_outside_the_supported_set_are_refused():
    with pytest.raises(ValueError, match="semantic_entropy"):
        LvlmParams(methods=["semantic_entropy"])


def test_choose_never_picks_a_banned_token():
    import torch

    from trustir.lvlm.backend import _choose

    logp = torch.log_softmax(torch.tensor([0.0, 5.0, 1.0, 4.0]), dim=-1)  # token 1 is best
    banned = torch.tensor([1])
    assert _choose(logp, None, 1.0, 1.0) == 1
    assert _choose(logp, None, 1.0, 1.0, banned) == 3
    draws = {_choose(logp, torch.Generator().manual_seed(s), 5.0, 1.0, banned) for s in range(40)}
    assert 1 not in draws and draws <= {0, 2, 3}


# --- VQA on the world and the VLM backend ---------------------------------------------------


@pytest.fixture(scope="module")
def world_and_records():
    from trustir.sources.world import Sizes, build_world
    from trustir.sources.world.visual import records_table, render_world

    world = build_world(Sizes.at(0.15), seed=13)
    return world, records_table(render_world(world, 13, 56, 30))


def test_vqa_answers_are_on_the_page_and_the_choice_is_prefix_stable(world_and_records):
    from trustir.calibration.qa import is_correct
    from trustir.lvlm.vqa import build_vqa

    world, records = world_and_records
    small, big = build_vqa(world, records, 2, 13), build_vqa(world, records, 4, 13)
    assert small.height == 2 and big.height >= 2
    assert set(small["qid"]) <= set(big["qid"])
    for r in big.iter_rows(named=True):
        assert all(is_correct(r["page_text"], [a], "contains") for a in r["answers"])
        name = records.filter(pl.col("image_id") == r["image_id"])["name"][0]
        assert name in r["question"] and r["question"].endswith("?")


@pytest.fixture(scope="module")
def vlm_backend(world_and_records):
    from trustir.lvlm.backend import VLMBackend
    from trustir.vision.model import build_tiny
    from trustir.vision.params import VisionParams

    _, records = world_and_records
    p = VisionParams(image_size=56)
    texts = [*records["title"], *records["text"], "answer :", "where was he born ?"]
    return VLMBackend(build_tiny(texts, p))


def test_vlm_sample_i_depends_on_its_seed_only_and_scores_its_own_reply(vlm_backend):
    from trustir.lvlm.backend import image_prompt

    prompt = image_prompt(vlm_backend.add_image(_image(56)), "where was he born ?")
    two = vlm_backend.sample(prompt, [5, 6], 0.7, 1.0, 5)
    one = vlm_backend.sample(prompt, [6], 0.7, 1.0, 5)
    assert two[1].text == one[0].text
    assert two[1].token_logprobs == pytest.approx(one[0].token_logprobs, abs=1e-5)
    g = vlm_backend.generate(prompt, 1, 0.0, 5)[0]
    assert g == vlm_backend.generate(prompt, 1, 0.0, 5)[0]
    assert all(lp <= 0 for lp in g.token_logprobs) and len(g.tokens) == g.tokens_out
    if g.text:  # teacher forcing the greedy reply gives back its log-probability
        assert vlm_backend.score([prompt], [g.text])[0, 0] == pytest.approx(g.logprob, abs=1e-4)
    with pytest.raises(ValueError, match="image"):
        vlm_backend.generate("no image mark", 1, 0.0, 3)


def test_vlm_replies_go_through_the_label_store(vlm_backend, tmp_path: Path):
    from trustir.llm.sampling import SamplingParams, sample_many
    from trustir.llm.store import LabelStore
    from trustir.lvlm.backend import image_prompt

    img = _image(56)
    prompts = {
        "plain": image_prompt(vlm_backend.add_image(img), "where was he born ?"),
        "blur": image_prompt(vlm_backend.add_image(blur(img, 1.0)), "where was he born ?"),
    }
    sp = SamplingParams(2, 0.7, 1.0, 4, 0)
    with LabelStore(tmp_path / "l.sqlite") as st:
        first = sample_many(vlm_backend, st, prompts, sp)
        calls = vlm_backend.usage.calls
        again = sample_many(vlm_backend, st, prompts, sp)
        assert vlm_backend.usage.calls == calls  # all from the store
        assert len(st) == 6  # 2 images x (greedy + 2 samples): the image hash is in the key
    assert [g.text for g in first["blur"].samples] == [g.text for g in again["blur"].samples]


def test_collect_asks_each_model_every_prompt_once(world_and_records, vlm_backend, tmp_path):
    """Real backends (a tiny random Llama with SmolLM2's tokenizer; the tiny Qwen2-VL): every
    kind of reply is there, in the numbers the params say, and a second run computes nothing."""
    from trustir.llm.backends.hf import HFBackend
    from trustir.llm.store import LabelStore
    from trustir.llm.testing import build_tiny_model
    from trustir.lvlm.collect import collect
    from trustir.lvlm.vqa import build_vqa

    world, records = world_and_records
    vqa = build_vqa(world, records, 2, 13)
    images = {i: _image(56) for i in vqa["image_id"]}

    class Images:
        get = staticmethod(images.__getitem__)

    llm = HFBackend(model=str(build_tiny_model(tmp_path / "tiny")), device="cpu")
    p = LvlmParams(items=2, n=2, rephrasings=2, max_new_tokens=3, rephrase_tokens=6)
    with LabelStore(tmp_path / "l.sqlite") as st:
        out = collect(vqa, p, llm, vlm_backend, Images, st)
        calls = (llm.usage.calls, vlm_backend.usage.calls)
        again = collect(vqa, p, llm, vlm_backend, Images, st)
        assert (llm.usage.calls, vlm_backend.usage.calls) == calls
    s = out["samples"]
    assert s.equals(again["samples"])
    counts = dict(s.group_by("model", "kind").len().select(
        pl.concat_str("model", "kind", separator="/"), "len").rows())  # fmt: skip
    assert counts == {
        "vlm/answer": 2 * 3, "text/answer": 2 * 3,  # greedy + n
        "vlm/verbalized": 2, "text/verbalized": 2,
        "vlm/rephrased": 2 * 2, "text/rephrased": 2 * 2,
        "vlm/perturbed": 2 * 3,  # blur, noise, crop; the text model has none
    }  # fmt: skip
    assert out["rephrasings"].height == 4
