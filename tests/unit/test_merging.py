"""P5 merge methods: hand-worked values and equivalences on bare tensors, per-layer weights, the
streaming merge against the in-memory one, and a merged tiny BERT that reloads and encodes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from trustir.merging.base import MERGES
from trustir.merging.dare import keep_mask
from trustir.merging.spec import MergeSpec
from trustir.merging.spherical import karcher_coefficients, slerp_coefficients
from trustir.merging.state import merge_state_dicts
from trustir.merging.stream import merge_checkpoints
from trustir.merging.ties import magnitude_threshold


def rand(*shape: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g)


BASE = rand(6, 5, seed=100)
MODELS = [BASE + 0.1 * rand(6, 5, seed=i) for i in range(3)]


# -- linear and task arithmetic ------------------------------------------------------------------
def test_linear_with_one_hot_weights_returns_that_model():
    for i in range(3):
        w = [1.0 if j == i else 0.0 for j in range(3)]
        assert torch.equal(MERGES.get("linear")(MODELS, weights=w), MODELS[i])


def test_linear_hand_worked():
    a, b = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 6.0])
    assert torch.allclose(MERGES.get("linear")([a, b], weights=[1, 3]), torch.tensor([2.5, 5.0]))
    out = MERGES.get("linear")([a, b], weights=[1, 3], normalize=False)
    assert torch.allclose(out, torch.tensor([10.0, 20.0]))


def test_task_arithmetic_hand_worked():
    base, a, b = torch.tensor([1.0, 1.0]), torch.tensor([2.0, 1.0]), torch.tensor([1.0, 3.0])
    out = MERGES.get("task_arithmetic")([a, b], base, weights=[1, 0.5], scale=0.5)
    # base + 0.5 * (1 * [1, 0] + 0.5 * [0, 2]) = [1.5, 1.5]
    assert torch.allclose(out, torch.tensor([1.5, 1.5]))


# -- TIES and DARE -------------------------------------------------------------------------------
def test_ties_with_identical_inputs_returns_the_input():
    same = [MODELS[0].clone() for _ in range(3)]
    out = MERGES.get("ties")(same, BASE, density=1.0)
    assert torch.allclose(out, MODELS[0], atol=1e-6)
    # and trimming keeps exactly the largest half of the shared task vector
    half = MERGES.get("ties")(same, BASE, density=0.5)
    tau = MODELS[0] - BASE
    kept = (half - BASE) != 0
    assert kept.sum() == 15 and torch.all(tau.abs()[kept].min() >= tau.abs()[~kept].max())


def test_ties_hand_worked():
    base = torch.zeros(4)
    t1 = torch.tensor([3.0, -1.0, 0.5, 2.0])
    t2 = torch.tensor([1.0, -4.0, -3.0, -2.5])
    out = MERGES.get("ties")([t1, t2], base, density=0.5)
    # trim keeps |t1| >= 2 -> [3, 0, 0, 2]; |t2| >= 3 -> [0, -4, -3, 0]
    # sum of trimmed = [3, -4, -3, 2]: elected signs +, -, -, +; disjoint means over agreeing
    assert torch.allclose(out, torch.tensor([3.0, -4.0, -3.0, 2.0]))
    full = MERGES.get("ties")([t1, t2], base, density=1.0)
    # sum = [4, -5, -2.5, -0.5]: elected +, -, -, -; agreeing means: [2, -2.5, -3, -2.5]
    assert torch.allclose(full, torch.tensor([2.0, -2.5, -3.0, -2.5]))


def test_magnitude_threshold_counts_k():
    mags = torch.tensor([0.1, 0.5, 0.3, 0.9])
    assert magnitude_threshold(mags, 0.5) == pytest.approx(0.5)
    assert magnitude_threshold(mags, 1.0) == float("-inf")
    with pytest.raises(ValueError, match="density"):
        magnitude_threshold(mags, 0.0)


def test_dare_at_density_one_equals_task_arithmetic():
    w = [0.3, 1.0, 0.7]
    ta = MERGES.get("task_arithmetic")(MODELS, BASE, weights=w, scale=0.8)
    dare = MERGES.get("dare")(MODELS, BASE, weights=w, density=1.0, scale=0.8, combine="linear")
    assert torch.allclose(dare, ta, atol=1e-6)
    ties = MERGES.get("ties")(MODELS, BASE, weights=w, density=1.0, scale=0.8)
    dare_ties = MERGES.get("dare")(MODELS, BASE, weights=w, density=1.0, scale=0.8, combine="ties")
    assert torch.allclose(dare_ties, ties, atol=1e-6)


def test_dare_drops_and_rescales_with_a_seeded_chunk_independent_mask():
    base, model = torch.zeros(200, 50), torch.ones(200, 50)
    out = MERGES.get("dare")([model], base, density=0.3, seed=5, key="w")
    kept = out != 0
    assert torch.allclose(out[kept], torch.full_like(out[kept], 1 / 0.3))
    assert abs(kept.float().mean().item() - 0.3) < 0.02  # 10,000 Bernoulli(0.3) draws
    again = MERGES.get("dare")([model], base, density=0.3, seed=5, key="w")
    other = MERGES.get("dare")([model], base, density=0.3, seed=6, key="w")
    assert torch.equal(out, again) and not torch.equal(out, other)
    full = keep_mask(torch.Size([200, 50]), 0, 0.3, 5, "w", 0)
    rows = keep_mask(torch.Size([30, 50]), 70 * 50, 0.3, 5, "w", 0)  # rows 70..99 alone
    assert torch.equal(full[70:100], rows)


# -- SLERP and multi-SLERP -----------------------------------------------------------------------
def test_slerp_at_zero_and_one_returns_the_ends():
    a, b = MODELS[0], MODELS[1]
    slerp = MERGES.get("slerp")
    assert torch.allclose(slerp([a, b], weights=[1, 0]), a, atol=1e-6)
    assert torch.allclose(slerp([a, b], weights=[0, 1]), b, atol=1e-6)
    assert torch.allclose(slerp([a, b], BASE, weights=[1, 0], relative=True), a, atol=1e-6)
    assert torch.allclose(slerp([a, b], BASE, weights=[0, 1], relative=True), b, atol=1e-6)


def test_slerp_hand_worked():
    e0, e1 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 3.0])
    # the direction halfway along the quarter circle, the norm halfway between 1 and 3
    out = MERGES.get("slerp")([e0, e1], weights=[1, 1])
    assert torch.allclose(out, torch.tensor([math.sqrt(2), math.sqrt(2)]), atol=1e-6)
    third = MERGES.get("slerp")([e0, e1], weights=[2, 1])  # t = 1/3: 30 degrees, norm 5/3
    angle = math.pi / 6
    assert torch.allclose(third, 5 / 3 * torch.tensor([math.cos(angle), math.sin(angle)]))


def test_multislerp_equals_slerp_for_two_models():
    for t in (0.0, 0.2, 0.5, 0.9, 1.0):
        w = [1 - t, t]
        for relative in (False, True):
            s = MERGES.get("slerp")(MODELS[:2], BASE, weights=w, relative=relative)
            m = MERGES.get("multislerp")(MODELS[:2], BASE, weights=w, relative=relative)
            assert torch.allclose(s, m, atol=1e-5), (t, relative)
    gram = torch.tensor([[2.0, 0.3, -0.1], [0.3, 1.0, 0.2], [-0.1, 0.2, 1.5]]).double().numpy()
    for w in ([1.0, 1.0, 0.0], [0.25, 0.75, 0.0]):
        slerp_c, karcher_c = slerp_coefficients(gram[:2, :2], w[:2]), karcher_coefficients(gram, w)
        assert karcher_c[:2] == pytest.approx(slerp_c, abs=1e-9) and karcher_c[2] == 0


def test_multislerp_hand_worked_three_directions():
    pts = [torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0]), torch.tensor([-3.0, 0.0])]
    out = MERGES.get("multislerp")(pts)
    # directions at 0, 90 and 180 degrees: the spherical mean is 90 degrees; norm mean(1, 2, 3)
    assert torch.allclose(out, torch.tensor([0.0, 2.0]), atol=1e-5)


def test_degenerate_spherical_cases_fall_back_to_linear():
    a = torch.tensor([1.0, 2.0])
    zero = torch.zeros(2)
    assert torch.allclose(MERGES.get("slerp")([a, 2 * a]), 1.5 * a)  # parallel
    assert torch.allclose(MERGES.get("multislerp")([a, zero]), 0.5 * a)  # no direction


# -- contract, spec, errors ----------------------------------------------------------------------
def test_every_method_returns_identical_inputs_unchanged():
    assert MERGES.names() == ["dare", "linear", "multislerp", "slerp", "task_arithmetic", "ties"]
    same = [MODELS[0].clone() for _ in range(2)]
    for name in MERGES:
        method = MERGES.get(name)
        opts = {"density": 1.0} if "density" in method.defaults else {}
        weights = [0.5, 0.5] if name in ("task_arithmetic", "dare") else None
        out = method(same, BASE, weights=weights, **opts)
        assert out.dtype == same[0].dtype and torch.allclose(out, same[0], atol=1e-5), name


def test_options_and_inputs_are_checked():
    with pytest.raises(ValueError, match="no option.*'densty'.*known: .*density"):
        MERGES.get("ties")(MODELS, BASE, densty=0.5)
    with pytest.raises(ValueError, match="needs the base"):
        MERGES.get("task_arithmetic")(MODELS)
    with pytest.raises(ValueError, match="2 merge weights for 3 models"):
        MERGES.get("linear")(MODELS, weights=[1, 1])
    with pytest.raises(ValueError, match="shapes differ"):
        MERGES.get("linear")([MODELS[0], MODELS[1][:2]], key="x")
    with pytest.raises(KeyError, match="unknown merge method 'nope'"):
        MERGES.get("nope")


def test_per_layer_weights_pick_the_first_matching_pattern():
    spec = MergeSpec(
        "linear",
        weights=[1, 1],
        layer_weights={"encoder.layer.0.*": [1, 0], "encoder.*": [0, 1]},
    )
    assert spec.weights_for("encoder.layer.0.attention.weight", 2) == [1.0, 0.0]
    assert spec.weights_for("encoder.layer.1.attention.weight", 2) == [0.0, 1.0]
    assert spec.weights_for("embeddings.word_embeddings.weight", 2) == [1.0, 1.0]
    sd = [
        {"encoder.layer.0.w": MODELS[0], "encoder.layer.1.w": MODELS[0], "pooler.w": MODELS[0]},
        {"encoder.layer.0.w": MODELS[1], "encoder.layer.1.w": MODELS[1], "pooler.w": MODELS[1]},
    ]
    out = merge_state_dicts(sd, spec)
    assert torch.equal(out["encoder.layer.0.w"], MODELS[0])
    assert torch.equal(out["encoder.layer.1.w"], MODELS[1])
    assert torch.allclose(out["pooler.w"], (MODELS[0] + MODELS[1]) / 2)
    with pytest.raises(ValueError, match=r"layer_weights\['x'\]: 3 merge weights for 2 models"):
        MergeSpec("linear", layer_weights={"x": [1, 1, 1]}).check(2, False)


# -- checkpoints ----------------------------------------------------------------------------------
def _perturbed_copies(model_dir: str, root: Path, n: int) -> list[Path]:
    """``n`` copies of a model folder with seeded noise on every float tensor (fake fine-tunes)."""
    import shutil

    sd = load_file(str(Path(model_dir) / "model.safetensors"))
    out = []
    for i in range(n):
        target = root / f"m{i}"
        shutil.copytree(model_dir, target)
        noisy = {
            k: (v + 0.02 * rand(*v.shape, seed=10 + i) if v.is_floating_point() else v)
            for k, v in sd.items()
        }
        save_file(noisy, str(target / "model.safetensors"), metadata={"format": "pt"})
        out.append(target)
    return out


OPTIONS = {
    "ties": {"density": 0.4},
    "dare": {"density": 0.6, "seed": 3},
    "slerp": {},
    "multislerp": {"relative": True},
    "task_arithmetic": {"scale": 0.7},
    "linear": {},
}


def test_streaming_merge_equals_the_in_memory_merge(tiny_model: str, tmp_path: Path):
    models = _perturbed_copies(tiny_model, tmp_path, 3)
    sds = [load_file(str(m / "model.safetensors")) for m in models]
    base = load_file(str(Path(tiny_model) / "model.safetensors"))
    for name in MERGES:
        spec = MergeSpec(name, weights=[0.5, 1.0, 1.5], options=OPTIONS[name])
        expected = merge_state_dicts(sds, spec, base)
        # 16 KiB chunks: the 30k x 32 word embeddings stream in 239 row chunks
        out = merge_checkpoints(
            models, tmp_path / f"out-{name}", spec, tiny_model, 16 / 1024, show_progress=False
        )
        got = load_file(str(out / "model.safetensors"))
        assert sorted(got) == sorted(expected)
        for k, v in expected.items():
            assert got[k].dtype == v.dtype and got[k].shape == v.shape
            assert torch.allclose(got[k], v, atol=1e-6, rtol=0), (name, k)
        meta = json.loads((out / "trustir_merge.json").read_text())
        assert meta["method"] == name
        assert meta["options"] == MERGES.get(name).options(OPTIONS[name])


def test_a_merged_model_reloads_and_encodes(tiny_model: str, tmp_path: Path):
    from trustir.retrieval.encoders import Encoder

    models = _perturbed_copies(tiny_model, tmp_path, 2)
    out = merge_checkpoints(
        models, tmp_path / "merged", MergeSpec("ties"), tiny_model, show_progress=False
    )
    assert (out / "config.json").exists() and (out / "tokenizer.json").exists()
    enc = Encoder(str(out), max_length=16, device="cpu")
    emb = enc.encode(["a merged model", "encodes text"], show_progress=False)
    assert emb.shape == (2, 32) and abs(float((emb**2).sum(1).mean()) - 1.0) < 1e-5
    merged = load_file(str(out / "model.safetensors"))
    first = load_file(str(models[0] / "model.safetensors"))
    assert any(not torch.equal(merged[k], first[k]) for k in first)


def test_checkpoints_that_differ_are_refused_naming_the_file(tiny_model: str, tmp_path: Path):
    models = _perturbed_copies(tiny_model, tmp_path, 2)
    sd = load_file(str(models[1] / "model.safetensors"))
    sd.pop("pooler.dense.bias")
    save_file(sd, str(models[1] / "model.safetensors"))
    with pytest.raises(
        ValueError, match=r"m1/model.safetensors: tensors differ.*pooler.dense.bias"
    ):
        merge_checkpoints(models, tmp_path / "x", MergeSpec("linear"), show_progress=False)
    with pytest.raises(FileNotFoundError, match="no safetensors checkpoint"):
        merge_checkpoints([tmp_path / "nowhere"], tmp_path / "y", MergeSpec("linear"))
    assert not (tmp_path / "x").exists()
