"""Embeddings cached by model fingerprint, image content hash and text (like the label store).

A persistent SQLite file per model fingerprint under ``cache_dir("vision-embeddings")``, outside
DVC's outputs: re-scoring the same model on the same images (``dvc repro -f``) encodes nothing.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np

from trustir.paths import cache_dir


def folder_fingerprint(path: str | Path, edge: int = 4 << 20) -> str:
    """A content hash of a saved model folder: small files whole, weight files by name, size
    and their first/last ``edge`` bytes (a full hash of a 2B model would take long)."""
    h = hashlib.sha256()
    for f in sorted(p for p in Path(path).iterdir() if p.is_file()):
        size = f.stat().st_size
        h.update(f"{f.name}\0{size}\0".encode())
        with f.open("rb") as fh:
            if size <= 2 * edge:
                h.update(fh.read())
            else:
                h.update(fh.read(edge))
                fh.seek(size - edge)
                h.update(fh.read(edge))
    return h.hexdigest()[:16]


def embedding_key(image_sha: str, text: str) -> str:
    return hashlib.sha256(f"{image_sha}\0{text}".encode()).hexdigest()


class EmbeddingCache:
    """``get(keys)`` / ``put(keys, vectors)`` for one model fingerprint; hits and misses counted."""

    def __init__(self, model_fingerprint: str, folder: Path | None = None) -> None:
        folder = folder or cache_dir("vision-embeddings")
        self.path = Path(folder) / f"{model_fingerprint}.sqlite"
        self._db = sqlite3.connect(self.path)
        self._db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB)")
        self.hits = self.misses = 0

    def get(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for key, blob in self._db.execute(
                f"SELECT key, vec FROM emb WHERE key IN ({marks})",  # noqa: S608  placeholders only
                chunk,
            ):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        self.hits += len(found)
        self.misses += len(set(keys) - set(found))
        return found

    def put(self, keys: list[str], vectors: np.ndarray) -> None:
        rows = [
            (k, np.asarray(v, dtype=np.float32).tobytes())
            for k, v in zip(keys, vectors, strict=True)
        ]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?)", rows)

    def close(self) -> None:
        self._db.close()
