"""The P6 GPU script's CPU-safe path: the same script with toy models, a few pages."""

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks/gpu/agree_gpu.py"


def test_agree_gpu_script_runs_both_rows_at_tiny_size(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUSTIR_CACHE", str(tmp_path / "cache"))
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("agree_gpu", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    result = mod.main(["--tiny", "--pages", "8", "--epochs", "1", "--batch", "4", "--lr", "1e-3",
                       "--scale", "0.1"])  # fmt: skip
    assert list(result["rows"]) == ["global", "agree-kl-l1"]
    assert all(0 <= r["nDCG@1"] <= 1 and r["steps"] >= 1 for r in result["rows"].values())
    assert result["target"]["region_share"] == 0.25 and result["target"]["pairs"] > 0
    sys.modules.pop("mm_pretrain_gpu", None)
