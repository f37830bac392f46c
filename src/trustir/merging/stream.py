"""Streaming merge of safetensors checkpoints: one tensor at a time, large tensors in row chunks
(PAPERS.md P5).

The N input files (and the base) are opened with ``safe_open`` (memory-mapped); for each tensor
the method's statistics are read first (``MergeMethod.stats``), then its rows are merged chunk by
chunk and written straight into the output file, whose safetensors header is computed up front
from the inputs' shapes and dtypes. So the memory a merge adds is a few chunks (and, for TIES'
thresholds, one tensor at a time), not N models; ``benchmarks/bench_merge_memory.py`` measures it.
"""

from __future__ import annotations

import json
import shutil
import struct
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from trustir.io.atomic import atomic_dir
from trustir.merging.spec import MergeSpec
from trustir.merging.state import check_same_keys, uses_base_model

CHECKPOINT = "model.safetensors"
MERGE_META = "trustir_merge.json"
#: files of a model folder that are not copied into a merged one.
NOT_COPIED = (CHECKPOINT, "trustir_train.json", MERGE_META)
DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
FLOATS = ("F64", "F32", "F16", "BF16")


def checkpoint_file(path: str | Path) -> Path:
    """``path`` itself if it is a .safetensors file, else ``path/model.safetensors``."""
    path = Path(path)
    target = path if path.suffix == ".safetensors" else path / CHECKPOINT
    if not target.is_file():
        raise FileNotFoundError(f"no safetensors checkpoint at {target} (sharded ones unsupported)")
    return target


class _FileSource:
    """A ``TensorSource`` over one tensor of N open checkpoints, in chunks of ``rows`` rows."""

    def __init__(self, handles: list[Any], base: Any | None, name: str, rows: int) -> None:
        self.handles, self.base, self.name, self.rows = handles, base, name, rows
        self.shape = handles[0].get_slice(name).get_shape()

    @property
    def n(self) -> int:
        return len(self.handles)

    @property
    def has_base(self) -> bool:
        return self.base is not None

    def ranges(self) -> Iterator[tuple[int, int]]:
        total = self.shape[0] if self.shape else 1
        step = total if not self.shape else self.rows
        for r0 in range(0, total, step):
            yield r0, min(r0 + step, total)

    def _read(self, handle: Any, r0: int, r1: int) -> Tensor:
        if not self.shape:
            return handle.get_tensor(self.name).float()
        return handle.get_slice(self.name)[r0:r1].float()

    def chunk(self, r0: int, r1: int) -> tuple[list[Tensor], Tensor | None]:
        chunks = [self._read(h, r0, r1) for h in self.handles]
        return chunks, None if self.base is None else self._read(self.base, r0, r1)

    def chunks(self) -> Iterator[tuple[list[Tensor], Tensor | None]]:
        for r0, r1 in self.ranges():
            yield self.chunk(r0, r1)

    def full(self, i: int) -> Tensor:
        # a copy: a tensor from safe_open may share the file's (copy-on-write) mapping
        return self.handles[i].get_tensor(self.name).to(torch.float32, copy=True)

    def full_base(self) -> Tensor | None:
        return None if self.base is None else self.base.get_tensor(self.name).float()


def _header(entries: list[tuple[str, str, list[int]]]) -> bytes:
    """The safetensors header (length prefix + JSON, space-padded to 8 bytes) for tensors
    written back to back in ``entries`` order."""
    meta: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, dtype, shape in entries:
        numel = 1
        for s in shape:
            numel *= s
        size = numel * torch.empty((), dtype=DTYPES[dtype]).element_size()
        meta[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(meta, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw


def _write(fh: Any, t: Tensor) -> None:
    fh.write(t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())


def merge_checkpoints(
    models: Sequence[str | Path],
    out: str | Path,
    spec: MergeSpec,
    base: str | Path | None = None,
    chunk_mb: float = 2.0,
    show_progress: bool = True,
) -> Path:
    """Merge the checkpoints ``models`` (model folders or .safetensors files) into the model
    folder ``out`` (``model.safetensors`` + the first model's config and tokenizer files +
    ``trustir_merge.json``), written atomically. Returns ``out``."""
    from safetensors import safe_open
    from tqdm.auto import tqdm

    files = [checkpoint_file(m) for m in models]
    spec.check(len(files), base is not None)
    base_file = checkpoint_file(base) if base is not None and uses_base_model(spec) else None
    if uses_base_model(spec) and base_file is None:
        raise ValueError(f"merge {spec.method!r} with these options needs the base model")
    out = Path(out)
    with atomic_dir(out) as tmp:
        with ExitStack() as stack:
            handles = [stack.enter_context(safe_open(str(f), framework="pt")) for f in files]
            bh = stack.enter_context(safe_open(str(base_file), "pt")) if base_file else None
            names = check_same_keys([str(f) for f in files], [set(h.keys()) for h in handles])
            entries = _entries(files, handles, bh, base_file, names)
            merge, options = spec.merge, spec.resolved_options()
            with open(tmp / CHECKPOINT, "wb") as fh:
                fh.write(_header(entries))
                for name, dtype, shape in tqdm(
                    entries, desc=f"merge {spec.method}", unit="tensor", disable=not show_progress
                ):
                    if dtype not in FLOATS:
                        _write(fh, _same_everywhere(files, handles, name))
                        continue
                    row_bytes = 4 * max(1, _numel(shape[1:])) if shape else 4
                    rows = max(1, int(chunk_mb * 2**20) // row_bytes)
                    source = _FileSource(handles, bh, name, rows)
                    weights = spec.weights_for(name, len(files))
                    stats = merge.stats(source, weights, **options)
                    row_numel = _numel(shape[1:]) if shape else 1
                    for r0, r1 in source.ranges():
                        chunks, b = source.chunk(r0, r1)
                        part = merge.combine(
                            chunks, b, weights, stats, r0 * row_numel, name, **options
                        )  # [r1 - r0, *shape[1:]]
                        _write(fh, part.to(DTYPES[dtype]))
        _copy_model_files(Path(models[0]), tmp)
        meta = {
            **spec.describe(),
            "models": [str(m) for m in models],
            "base": None if base is None else str(base),
        }
        (tmp / MERGE_META).write_text(json.dumps(meta, indent=2) + "\n")
    return out


def _numel(shape: Sequence[int]) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _entries(
    files: list[Path],
    handles: list[Any],
    base: Any | None,
    base_file: Path | None,
    names: list[str],
) -> list[tuple[str, str, list[int]]]:
    """(name, dtype, shape) of every tensor, after checking shapes and dtypes agree."""
    base_keys = set(base.keys()) if base is not None else set()
    entries = []
    for name in names:
        sl = handles[0].get_slice(name)
        shape, dtype = list(sl.get_shape()), sl.get_dtype()
        for f, h in zip(files[1:], handles[1:], strict=True):
            other = h.get_slice(name)
            if list(other.get_shape()) != shape or other.get_dtype() != dtype:
                raise ValueError(
                    f"tensor {name}: {other.get_dtype()}{list(other.get_shape())} in {f} "
                    f"differs from {dtype}{shape} in {files[0]}"
                )
        if dtype not in DTYPES:
            raise ValueError(f"tensor {name} in {files[0]}: unsupported dtype {dtype}")
        if base is not None and dtype in FLOATS:
            if name not in base_keys:
                raise ValueError(f"the base model {base_file} lacks tensor {name}")
            if list(base.get_slice(name).get_shape()) != shape:
                raise ValueError(f"tensor {name}: shape in the base {base_file} differs")
        entries.append((name, dtype, shape))
    return entries


def _same_everywhere(files: list[Path], handles: list[Any], name: str) -> Tensor:
    """A non-float tensor (e.g. position ids), which must be equal in every model."""
    first = handles[0].get_tensor(name)
    for f, h in zip(files[1:], handles[1:], strict=True):
        if not torch.equal(h.get_tensor(name), first):
            raise ValueError(f"non-float tensor {name} differs between {files[0]} and {f}")
    return first


def _copy_model_files(model: Path, target: Path) -> None:
    """Config, tokenizer and other small files of the first model folder."""
    if not model.is_dir():
        return
    for f in sorted(model.iterdir()):
        if f.is_file() and f.name not in NOT_COPIED and f.suffix != ".safetensors":
            shutil.copy2(f, target / f.name)
