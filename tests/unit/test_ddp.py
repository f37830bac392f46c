"""torchrun DDP of the retriever trainer (issue 18): 2 gloo ranks x B queries per rank give
the loss curve of 1 process x 2B, in-batch negatives gathered across ranks with gradient."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).with_name("ddp_curve.py")
#: float32 sums in another order (per-rank encodes, padding to another longest text, the
#: gathered gradient summed across ranks): agreement to ~1e-6; the bound leaves 10x room.
TOLERANCE = 1e-5


def curve(tmp_path: Path, world: int, batch: int, loss: str) -> dict:
    out = tmp_path / f"w{world}-{loss}.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if world == 1:
        cmd = [sys.executable, str(SCRIPT)]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc-per-node={world}", str(SCRIPT)]  # fmt: skip
    proc = subprocess.run(
        [*cmd, str(out), str(batch), loss], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["infonce", "jointlh"])
def test_two_ranks_equal_one_rank_at_the_same_global_batch(tmp_path: Path, loss: str) -> None:
    one = curve(tmp_path, world=1, batch=8, loss=loss)
    two = curve(tmp_path, world=2, batch=4, loss=loss)
    assert two["world"] == 2 and one["world"] == 1
    assert two["steps"] == one["steps"] == 9  # 24 queries / 8 per global batch x 3 epochs
    assert two["examples"] == one["examples"] == 72
    a, b = np.asarray(one["losses"]), np.asarray(two["losses"])
    assert np.abs(a - b).max() < TOLERANCE, (a, b)
    assert a[-1] < a[0]  # it learned: the equality is not of two flat curves
    wa, wb = np.asarray(one["weights"]), np.asarray(two["weights"])
    assert np.abs(wa - wb).max() < TOLERANCE  # and the trained weights agree
    print(f"{loss}: max |loss diff| {np.abs(a - b).max():.2e}, weights {np.abs(wa - wb).max():.2e}")


@pytest.mark.slow
def test_two_ranks_without_the_gather_would_differ(tmp_path: Path) -> None:
    """The control: 1 process at batch B (what each rank would see without the gather) does
    not give the 2B curve, so the test above can fail."""
    one_b = curve(tmp_path, world=1, batch=4, loss="infonce")
    one_2b = curve(tmp_path, world=1, batch=8, loss="infonce")
    n = min(len(one_b["losses"]), len(one_2b["losses"]))
    diff = np.abs(np.asarray(one_b["losses"][:n]) - np.asarray(one_2b["losses"][:n])).max()
    assert diff > 100 * TOLERANCE
