"""P3 losses: hand-worked values, the one-positive equivalences, gradients and the mask contract."""

from __future__ import annotations

import math

import pytest
import torch

from trustir.retrieval.losses import LOSSES
from trustir.retrieval.losses.infonce import infonce
from trustir.retrieval.losses.jointlh import jointlh
from trustir.retrieval.losses.lsepair import lsepair
from trustir.retrieval.losses.rand1lh import rand1lh
from trustir.retrieval.losses.summarglh import summarglh

T, F = True, False
# A 2×4 batch: row 0 has positives {0, 1} and negatives {2, 3}; row 1 has positives {1, 3},
# negative {2}, and column 0 in neither set (e.g. an unjudged duplicate): it must take no part.
S = [[2.0, 1.0, 0.5, -1.0], [0.3, 1.5, -0.2, 0.8]]
POS = [[T, T, F, F], [F, T, F, T]]
NEG = [[F, F, T, T], [F, F, T, F]]
e = math.exp


def batch(dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return torch.tensor(S, dtype=dtype), torch.tensor(POS), torch.tensor(NEG)


def random_batch(
    b: int = 6, n: int = 9, one_positive: bool = False, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random scores [b, n]; ≥ 1 positive per row (exactly 1 if asked), disjoint negatives, and
    some columns in neither mask."""
    g = torch.Generator().manual_seed(seed)
    scores = torch.randn(b, n, generator=g, dtype=torch.float64) * 3  # [b, n]
    pos = torch.zeros(b, n, dtype=torch.bool)
    pos[torch.arange(b), torch.randint(0, n, (b,), generator=g)] = True
    if not one_positive:
        pos |= torch.rand(b, n, generator=g) < 0.25
    neg = ~pos & (torch.rand(b, n, generator=g) < 0.7)
    return scores, pos, neg


# -- hand-worked values ---------------------------------------------------------------------------
LSE_ALL_0 = math.log(e(2.0) + e(1.0) + e(0.5) + e(-1.0))  # row 0 over D+ ∪ D-
LSE_ALL_1 = math.log(e(1.5) + e(-0.2) + e(0.8))  # row 1 over D+ ∪ D- (column 0 excluded)


def test_infonce_by_hand() -> None:
    # one positive: the first of each row (0 in row 0, 1 in row 1); other positives take no part
    row0 = math.log(e(2.0) + e(0.5) + e(-1.0)) - 2.0
    row1 = math.log(e(1.5) + e(-0.2)) - 1.5
    assert infonce(*batch()).item() == pytest.approx((row0 + row1) / 2, abs=1e-12)


def test_rand1lh_by_hand() -> None:
    # the sampled positives are given: column 1 in row 0, column 3 in row 1
    pos = torch.tensor([[F, T, F, F], [F, F, F, T]])
    scores, _, neg = batch()
    row0 = math.log(e(1.0) + e(0.5) + e(-1.0)) - 1.0
    row1 = math.log(e(0.8) + e(-0.2)) - 0.8
    assert rand1lh(scores, pos, neg).item() == pytest.approx((row0 + row1) / 2, abs=1e-12)


def test_rand1lh_samples_one_positive_with_a_generator() -> None:
    scores, pos, neg = batch()
    g = torch.Generator().manual_seed(3)
    value = rand1lh(scores, pos, neg, generator=g).item()
    options = []  # the four ways of drawing one positive per row
    for p0 in (0, 1):
        for p1 in (1, 3):
            one = torch.zeros_like(pos)
            one[0, p0] = one[1, p1] = True
            options.append(infonce(scores, one, neg).item())
    assert min(abs(value - o) for o in options) < 1e-12
    again = rand1lh(scores, pos, neg, generator=torch.Generator().manual_seed(3)).item()
    assert again == value  # seeded


def test_jointlh_by_hand() -> None:
    row0 = LSE_ALL_0 - (2.0 + 1.0) / 2  # -(log P(d0) + log P(d1)) / 2
    row1 = LSE_ALL_1 - (1.5 + 0.8) / 2
    assert jointlh(*batch()).item() == pytest.approx((row0 + row1) / 2, abs=1e-12)
    raw0 = 2 * LSE_ALL_0 - (2.0 + 1.0)
    raw1 = 2 * LSE_ALL_1 - (1.5 + 0.8)
    assert jointlh(*batch(), normalize=False).item() == pytest.approx((raw0 + raw1) / 2, abs=1e-12)


def test_summarglh_by_hand() -> None:
    row0 = -math.log((e(2.0) + e(1.0)) / (e(2.0) + e(1.0) + e(0.5) + e(-1.0)))
    row1 = -math.log((e(1.5) + e(0.8)) / (e(1.5) + e(-0.2) + e(0.8)))
    assert summarglh(*batch()).item() == pytest.approx((row0 + row1) / 2, abs=1e-12)


def test_lsepair_by_hand() -> None:
    # all pairs: row 0 has (p, n) in {2, 1} × {0.5, -1}; row 1 has {1.5, 0.8} × {-0.2}
    row0 = math.log(1 + e(0.5 - 2.0) + e(-1.0 - 2.0) + e(0.5 - 1.0) + e(-1.0 - 1.0))
    row1 = math.log(1 + e(-0.2 - 1.5) + e(-0.2 - 0.8))
    assert lsepair(*batch()).item() == pytest.approx((row0 + row1) / 2, abs=1e-12)
    # hardest negative only: 0.5 in row 0, -0.2 in row 1
    row0 = math.log(1 + e(0.5 - 2.0) + e(0.5 - 1.0))
    row1 = math.log(1 + e(-0.2 - 1.5) + e(-0.2 - 0.8))
    assert lsepair(*batch(), negatives="max").item() == pytest.approx((row0 + row1) / 2, abs=1e-12)
    # lowest-scoring positive only: 1.0 in row 0, 0.8 in row 1
    row0 = math.log(1 + e(0.5 - 1.0) + e(-1.0 - 1.0))
    row1 = math.log(1 + e(-0.2 - 0.8))
    assert lsepair(*batch(), positives="min").item() == pytest.approx((row0 + row1) / 2, abs=1e-12)
    # both: one pair per row
    row0 = math.log(1 + e(0.5 - 1.0))
    row1 = math.log(1 + e(-0.2 - 0.8))
    value = lsepair(*batch(), negatives="max", positives="min").item()
    assert value == pytest.approx((row0 + row1) / 2, abs=1e-12)


# -- equivalences and gradients -------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_positive_all_losses_equal_infonce(seed: int) -> None:
    scores, pos, neg = random_batch(b=7, n=10, one_positive=True, seed=seed)
    ref = infonce(scores, pos, neg).item()
    for name in ("rand1lh", "jointlh", "summarglh", "lsepair"):
        assert LOSSES.get(name)(scores, pos, neg).item() == pytest.approx(ref, abs=1e-6), name
    assert jointlh(scores, pos, neg, normalize=False).item() == pytest.approx(ref, abs=1e-6)


def test_float32_matches_float64() -> None:
    for name in LOSSES:
        scores, pos, neg = random_batch(seed=5, one_positive=LOSSES.get(name).positives != "all")
        a = LOSSES.get(name)(scores, pos, neg).item()
        assert LOSSES.get(name)(scores.float(), pos, neg).item() == pytest.approx(a, abs=1e-5)


OPTIONS = [
    ("infonce", {}),
    ("rand1lh", {}),
    ("jointlh", {}),
    ("jointlh", {"normalize": False}),
    ("summarglh", {}),
    ("lsepair", {}),
    ("lsepair", {"negatives": "max"}),
    ("lsepair", {"positives": "min"}),
    ("lsepair", {"negatives": "max", "positives": "min"}),
]


@pytest.mark.parametrize(("name", "options"), OPTIONS)
def test_gradcheck(name: str, options: dict) -> None:
    scores, pos, neg = random_batch(b=3, n=5, one_positive=name == "rand1lh", seed=11)
    scores.requires_grad_(True)
    fn = LOSSES.get(name)
    assert torch.autograd.gradcheck(lambda s: fn(s, pos, neg, **options), (scores,))


@pytest.mark.parametrize(("name", "options"), OPTIONS)
def test_scores_outside_both_masks_take_no_part(name: str, options: dict) -> None:
    scores, pos, neg = batch()
    if name == "rand1lh":
        pos = torch.tensor([[F, T, F, F], [F, F, F, T]])
    fn = LOSSES.get(name)
    before = fn(scores, pos, neg, **options).item()
    moved = scores.clone()
    moved[1, 0] = 50.0  # row 1, column 0 is in neither D+ nor D-
    assert fn(moved, pos, neg, **options).item() == pytest.approx(before, abs=1e-12)
    leaf = scores.clone().requires_grad_(True)
    fn(leaf, pos, neg, **options).backward()
    assert leaf.grad[1, 0].item() == 0.0


# -- the contract every registered loss keeps -----------------------------------------------------
@pytest.mark.parametrize("name", LOSSES.names())
def test_registered_loss_contract(name: str) -> None:
    loss = LOSSES.get(name)
    assert loss.positives in ("best", "sample", "all")
    scores, pos, neg = random_batch(b=5, n=8, one_positive=loss.positives != "all", seed=21)
    leaf = scores.float().requires_grad_(True)
    value = loss(leaf, pos, neg)
    assert value.shape == () and torch.isfinite(value)
    value.backward()
    assert torch.isfinite(leaf.grad).all()
    # raising a negative's score never lowers the loss; raising all positives' never raises it
    # (JointLH may push a single likely positive down: its gradient is P(d+) - 1/|D+|)
    assert (leaf.grad[neg] >= -1e-7).all()
    assert (leaf.grad.masked_fill(~pos, 0.0).sum(dim=1) <= 1e-7).all()
    # a row with no negative at all stays finite (a one-query batch without hard negatives)
    no_neg = neg.clone()
    no_neg[0] = False
    leaf = scores.clone().requires_grad_(True)
    value = loss(leaf, pos, no_neg)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(leaf.grad).all()
    with pytest.raises(ValueError, match="at least one positive"):
        bad = pos.clone()
        bad[0] = False
        loss(scores, bad, neg & ~bad)
    with pytest.raises(ValueError, match="both positive and negative"):
        loss(scores, pos, neg | pos)
    with pytest.raises(ValueError, match="no option"):
        loss.check_options({"no_such_option": 1})
