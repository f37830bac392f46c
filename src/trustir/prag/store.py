"""The adapter store: one LoRA per document, content-addressed, outside DVC's outputs (P9).

Like the label store (DESIGN.md), it is a persistent cache that a forced ``dvc repro -f`` reads
instead of retraining. An adapter's key is sha256 over the document's content hash, its
augmentation keys (the label keys of its rewrite and QA calls), the LoRA config and the base
model's id (name + revision). Each adapter is one safetensors file
``<root>/<key[:2]>/<key>.safetensors`` written to a temp file in the same folder and renamed
onto its name (``os.replace``: atomic), so a writer killed mid-way leaves at most a dot-named
temp file that nothing reads; two processes writing the same key both rename complete, equal
files (idempotent). The file's metadata holds the key and a sha256 of the tensors, checked on
every read: a file that does not match is never returned as good.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from trustir.llm.store import label_key
from trustir.paths import cache_dir

#: per trainer, bumped when its arithmetic changes (plain v2: the vocabulary-last loss layout)
TRAINER_VERSIONS = {"plain": "prag-lora-plain-v2", "batched": "prag-lora-v1"}


class CorruptAdapter(ValueError):
    """A stored adapter whose metadata or checksum does not match its key."""


def adapter_key(
    doc_hash: str, augment_keys: Iterable[str], lora: Mapping[str, Any], model_id: str
) -> str:
    """The content address of one document's adapter."""
    version = TRAINER_VERSIONS[str(lora.get("trainer", "plain"))]
    content = {"doc": doc_hash, "augment": sorted(augment_keys), "trainer": version}
    return label_key(model_id, "prag.adapter", dict(lora), content)


def tensors_digest(tensors: Mapping[str, Any]) -> str:
    """sha256 over the tensors' names, shapes, dtypes and bytes (in name order)."""
    import torch

    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        h.update(f"{name}\0{tuple(t.shape)}\0{t.dtype}\0".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


class AdapterStore:
    """Adapters by key under ``root`` (default ``cache_dir("adapters")``)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root else cache_dir("adapters")
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.safetensors"

    def __contains__(self, key: str) -> bool:
        return self.path(key).is_file()

    def missing(self, keys: Iterable[str]) -> list[str]:
        """Keys with no stored adapter, in input order (without repeats)."""
        return [k for k in dict.fromkeys(keys) if k not in self]

    def put(self, key: str, tensors: Mapping[str, Any], meta: Mapping[str, Any]) -> Path:
        """Write one adapter atomically (temp file, then rename); returns its path."""
        from safetensors.torch import save_file

        from trustir.io.atomic import atomic_path

        tensors = {n: t.detach().contiguous().cpu() for n, t in tensors.items()}
        header = {"key": key, "digest": tensors_digest(tensors), "meta": json.dumps(dict(meta))}
        target = self.path(key)
        with atomic_path(target) as tmp:
            save_file(tensors, str(tmp), metadata=header)
        return target

    def get(self, key: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """(tensors, meta) of ``key``; ``KeyError`` if absent, ``CorruptAdapter`` if unsound."""
        from safetensors import safe_open

        path = self.path(key)
        if not path.is_file():
            raise KeyError(f"no adapter {key} in {self.root}")
        try:
            with safe_open(str(path), framework="pt") as fh:
                header = fh.metadata() or {}
                tensors = {n: fh.get_tensor(n) for n in fh.keys()}  # noqa: SIM118
        except Exception as exc:  # a truncated or foreign file
            raise CorruptAdapter(f"{path}: unreadable adapter ({exc})") from None
        if header.get("key") != key or header.get("digest") != tensors_digest(tensors):
            raise CorruptAdapter(f"{path}: metadata or checksum does not match key {key}")
        return tensors, json.loads(header.get("meta", "{}"))

    def nbytes(self, key: str) -> int:
        return self.path(key).stat().st_size
