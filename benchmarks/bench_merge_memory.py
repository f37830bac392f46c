"""Memory added by merging N checkpoints: trustir's streaming merge vs loading them all (P5).

Setup. N (BENCH_N, default 4) fake fine-tunes of the packaged all-MiniLM-L6-v2 (its weights plus
seeded noise, 90.9 MB each as safetensors) and the model itself as the base, in a temp folder.
Method ``BENCH_METHOD`` (default ``ties``: the heaviest, it reads one whole tensor per model for
its trim thresholds; ``linear`` is the lightest).

* trustir: ``merge_checkpoints`` - the files opened with ``safe_open``, one tensor at a time,
  large tensors in row chunks (``chunk_mb`` 2), the output written tensor by tensor.
* peer "load all": every checkpoint (and the base) loaded into memory first (``load_file`` then a
  copy, as ``from_pretrained`` materialises parameters), merged in memory with the same maths
  (``merge_state_dicts``), saved with ``save_file``.

Method. Each side runs in a fresh subprocess: imports and the file list first, ``gc.collect()``,
then the kernel's peak-RSS mark is reset (``5`` to ``/proc/self/clear_refs``) and a thread samples
``/proc/self/status`` every 0.5 ms while the merge runs. Reported: the peak of RssAnon added (the
process's own allocations: torch tensors, which tracemalloc does not see) and of VmRSS added (it
also counts the pages of memory-mapped checkpoint files, page cache the kernel can reclaim).
Goal: streaming allocations <= 2x one model's size; the ratio printed is added / model size.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

N = int(os.environ.get("BENCH_N", 4))
METHOD = os.environ.get("BENCH_METHOD", "ties")
OPTIONS = {"ties": {"density": 0.5}, "dare": {"density": 0.5}}.get(METHOD, {})


def status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def measure(run) -> dict[str, float]:
    """Peak RssAnon / VmRSS added (MB) while ``run()`` runs, sampled every 0.5 ms."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # VmHWM := VmRSS
    except OSError:
        pass
    base_anon, base_rss = status_kb("RssAnon"), status_kb("VmRSS")
    peak = {"anon": base_anon, "rss": base_rss}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak["anon"] = max(peak["anon"], status_kb("RssAnon"))
            peak["rss"] = max(peak["rss"], status_kb("VmRSS"))
            time.sleep(0.0005)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    t0 = time.perf_counter()
    run()
    seconds = time.perf_counter() - t0
    stop.set()
    thread.join()
    peak["anon"] = max(peak["anon"], status_kb("RssAnon"))
    peak["rss"] = max(peak["rss"], status_kb("VmRSS"), status_kb("VmHWM"))
    return {
        "anon_mb": (peak["anon"] - base_anon) / 1024,
        "rss_mb": (peak["rss"] - base_rss) / 1024,
        "seconds": seconds,
    }


def make_checkpoints(root: Path) -> tuple[list[Path], Path]:
    """N noisy copies of MiniLM's folder and the original (the base)."""
    import torch
    from safetensors.torch import load_file, save_file

    from trustir.retrieval.encoders import resolve_model

    base = Path(resolve_model("minilm"))
    sd = load_file(str(base / "model.safetensors"))
    out = []
    for i in range(N):
        target = root / f"m{i}"
        target.mkdir()
        for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt"):
            shutil.copy2(base / name, target / name)
        g = torch.Generator().manual_seed(i)
        noisy = {
            k: v + 1e-3 * torch.randn(v.shape, generator=g) if v.is_floating_point() else v
            for k, v in sd.items()
        }
        save_file(noisy, str(target / "model.safetensors"), metadata={"format": "pt"})
        out.append(target)
    return out, base


def run_side(side: str, root: Path) -> dict[str, float]:
    from safetensors.torch import load_file, save_file

    from trustir.merging.spec import MergeSpec
    from trustir.merging.state import merge_state_dicts
    from trustir.merging.stream import merge_checkpoints

    models = [root / f"m{i}" for i in range(N)]
    base = Path(json.loads((root / "base.json").read_text())["base"])
    spec = MergeSpec(METHOD, options=OPTIONS)

    def streaming() -> None:
        merge_checkpoints(models, root / "out-stream", spec, base, show_progress=False)

    def load_all() -> None:
        sds = [
            {k: v.clone() for k, v in load_file(str(m / "model.safetensors")).items()}
            for m in models
        ]
        base_sd = {k: v.clone() for k, v in load_file(str(base / "model.safetensors")).items()}
        merged = merge_state_dicts(sds, spec, base_sd)
        (root / "out-all").mkdir(exist_ok=True)
        save_file(merged, str(root / "out-all" / "model.safetensors"))

    return measure(streaming if side == "stream" else load_all)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--side":
        print(json.dumps(run_side(sys.argv[2], Path(sys.argv[3]))))
        return
    with tempfile.TemporaryDirectory(prefix="bench-merge-") as tmp:
        root = Path(tmp)
        models, base = make_checkpoints(root)
        (root / "base.json").write_text(json.dumps({"base": str(base)}))
        model_mb = (models[0] / "model.safetensors").stat().st_size / 2**20
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_WAIT_POLICY": "PASSIVE"}
        result = {}
        for side in ("stream", "all"):
            out = subprocess.run(  # noqa: S603  this interpreter on a benchmark script
                [sys.executable, __file__, "--side", side, str(root)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            result[side] = json.loads(out.strip().splitlines()[-1])
        from safetensors.torch import load_file

        a = load_file(str(root / "out-stream" / "model.safetensors"))
        b = load_file(str(root / "out-all" / "model.safetensors"))
        same = all(float((a[k].float() - b[k].float()).abs().max()) <= 1e-6 for k in b)
    s, p = result["stream"], result["all"]
    print(f"merge {METHOD} of {N} checkpoints of {model_mb:.1f} MB (MiniLM), same output: {same}")
    for name, r in (("streaming", s), ("load all", p)):
        print(
            f"  {name:9s}: +{r['anon_mb']:.1f} MB allocated (RssAnon), +{r['rss_mb']:.1f} MB RSS "
            f"(with mapped file pages), {r['seconds']:.1f} s"
        )
    print(
        f"allocations added / model size: streaming {s['anon_mb'] / model_mb:.2f}x (goal <= 2), "
        f"load all {p['anon_mb'] / model_mb:.2f}x; ratio streaming/load-all = "
        f"{s['anon_mb'] / p['anon_mb']:.2f}"
    )


if __name__ == "__main__":
    main()
