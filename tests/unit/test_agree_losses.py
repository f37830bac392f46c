"""P6 AGREE maths on bare tensors: MaxSim, s_j, the global loss, the local losses (hand-worked
values and equivalences, incl. colpali-engine's loss and scorer)."""

from __future__ import annotations

import math

import pytest
import torch

from trustir.agree.global_loss import hardest_negative_softplus
from trustir.agree.local import LOCAL_LOSSES, LocalOptions
from trustir.agree.local.topk_ce import top_k_count
from trustir.agree.scoring import maxsim, patch_similarity

OPTS = LocalOptions(target_temperature=1.0, score_temperature=1.0, top_k_percent=25.0)


def test_maxsim_hand_worked() -> None:
    q = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])  # (1, 2, 2)
    d = torch.tensor([[[2.0, 0.0], [0.0, 3.0], [1.0, 1.0]], [[0.0, 0.0], [0.0, 0.0], [-1.0, 0.0]]])
    # page 0: token 1 max(2, 0, 1) = 2, token 2 max(0, 3, 1) = 3 -> 5; page 1: 0 + 0 = 0
    assert maxsim(q, d).tolist() == [[5.0, 0.0]]
    assert maxsim(q, d, chunk=1).tolist() == [[5.0, 0.0]]


def test_patch_similarity_is_the_mean_over_real_query_tokens() -> None:
    q = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]])  # third token is padding
    mask = torch.tensor([[True, True, False]])
    d = torch.tensor([[[2.0, 4.0], [6.0, 0.0]]])
    # patch 0: (2 + 4) / 2 = 3; patch 1: (6 + 0) / 2 = 3
    assert patch_similarity(q, mask, d).tolist() == [[3.0, 3.0]]


def test_global_loss_hand_worked() -> None:
    scores = torch.tensor([[0.9, 0.2, 0.5], [0.1, 0.3, 0.4], [0.0, 0.0, 0.8]])
    # hardest negatives 0.5, 0.4, 0.0: softplus(-0.4), softplus(0.1), softplus(-0.8)
    want = math.log1p(math.exp(-0.4)) + math.log1p(math.exp(0.1)) + math.log1p(math.exp(-0.8))
    assert hardest_negative_softplus(scores).item() == pytest.approx(want / 3, abs=1e-6)
    # excluding row 1's hardest (column 2) leaves column 0: softplus(0.1 - 0.3)
    exclude = torch.zeros(3, 3, dtype=torch.bool)
    exclude[1, 2] = True
    want2 = math.log1p(math.exp(-0.4)) + math.log1p(math.exp(-0.2)) + math.log1p(math.exp(-0.8))
    got = hardest_negative_softplus(scores, exclude=exclude).item()
    assert got == pytest.approx(want2 / 3, abs=1e-6)


def test_global_loss_equals_colpali_engines() -> None:
    ref = pytest.importorskip("trustir.agree.colpali_ref")
    try:
        loss = ref.pairwise_ce_loss(temperature=0.05, normalize_scores=True)
    except ModuleNotFoundError:
        pytest.skip("colpali-engine is not installed (Makefile installs it with --no-deps)")
    g = torch.Generator().manual_seed(0)
    q = torch.nn.functional.normalize(torch.randn(5, 6, 8, generator=g), dim=-1)
    q[:, 4:] = 0  # padding: two tokens per query
    d = torch.nn.functional.normalize(torch.randn(5, 9, 8, generator=g), dim=-1)
    scores = maxsim(q, d) / 4  # length-normalised, as colpali-engine's normalize_scores
    ours = hardest_negative_softplus(scores, temperature=0.05)
    assert ours.item() == pytest.approx(loss(q, d).item(), rel=1e-5)


def test_maxsim_equals_colpali_engines_scorer() -> None:
    ref = pytest.importorskip("trustir.agree.colpali_ref")
    g = torch.Generator().manual_seed(1)
    q, d = torch.randn(7, 5, 16, generator=g), torch.randn(11, 9, 16, generator=g)
    try:
        theirs = ref.score_multi_vector(list(q), list(d), batch_size=4)
    except ModuleNotFoundError:
        pytest.skip("colpali-engine is not installed (Makefile installs it with --no-deps)")
    assert torch.allclose(maxsim(q, d, chunk=3), theirs, atol=1e-5)


def test_kl_is_zero_when_the_distributions_agree_and_positive_otherwise() -> None:
    kl = LOCAL_LOSSES.get("kl")
    target = torch.tensor([[0.1, 0.2, 0.7]])
    s = target / target.max()  # softmax(s / 1) == softmax(Ã / max Ã / 1)
    assert kl(s, target, OPTS).item() == pytest.approx(0.0, abs=1e-7)
    # hand-worked: p = softmax([1, 0]), q = softmax([0, 0]) -> KL = sum p log(2 p)
    p = torch.softmax(torch.tensor([1.0, 0.0]), 0)
    want = float((p * torch.log(2 * p)).sum())
    got = kl(torch.zeros(1, 2), torch.tensor([[0.6, 0.0]]), OPTS).item()
    assert got == pytest.approx(want, abs=1e-6)


def test_topk_ce_with_one_patch_is_cross_entropy() -> None:
    topk = LOCAL_LOSSES.get("topk_ce")
    s = torch.tensor([[0.3, 1.2, -0.5, 0.1]])
    target = torch.tensor([[0.1, 0.2, 0.6, 0.1]])  # argmax = patch 2
    one = LocalOptions(1.0, 1.0, top_k_percent=25.0)  # 25 % of 4 patches = 1
    ce = torch.nn.functional.cross_entropy(s, torch.tensor([2]))
    assert topk(s, target, one).item() == pytest.approx(ce.item(), abs=1e-6)
    # K covering every patch: all mass is on the positives, the loss is 0
    assert topk(s, target, LocalOptions(1.0, 1.0, 100.0)).item() == pytest.approx(0.0, abs=1e-6)
    # two positives (patches 2 and 1): -log(q_1 + q_2)
    q = torch.softmax(s[0], 0)
    two = topk(s, target, LocalOptions(1.0, 1.0, 50.0)).item()
    assert two == pytest.approx(-math.log(float(q[1] + q[2])), abs=1e-6)


def test_top_k_count() -> None:
    assert [top_k_count(64, k) for k in (1.0, 10.0, 25.0, 100.0)] == [1, 7, 16, 64]


def test_cos_local_loss() -> None:
    cos = LOCAL_LOSSES.get("cos")
    target = torch.tensor([[0.25, 0.75]])
    assert cos(3 * target, target, OPTS).item() == pytest.approx(0.0, abs=1e-6)
    assert cos(torch.tensor([[3.0, -1.0]]), target, OPTS).item() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("name", ["kl", "topk_ce", "cos"])
def test_local_losses_pull_s_towards_the_target(name: str) -> None:
    """One gradient step on s lowers the loss and raises s on the target's top patch most."""
    target = torch.tensor([[0.05, 0.05, 0.8, 0.1]])
    s = torch.zeros(1, 4, requires_grad=True)
    loss = LOCAL_LOSSES.get(name)(s, target, OPTS)
    loss.backward()
    assert int(torch.argmin(s.grad)) == 2  # descent raises patch 2 the most
