"""The rendered images of the visual world on disk: PNGs by image id, and their content hashes."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from PIL import Image


class ImageStore:
    """Loads ``<folder>/<image_id>.png`` once; ``sha256(image_id)`` is its content hash."""

    def __init__(self, folder: str | Path, records: pl.DataFrame) -> None:
        self.folder = Path(folder)
        self._sha = dict(records.select("image_id", "sha256").iter_rows())
        self._images: dict[str, Image.Image] = {}

    def get(self, image_id: str) -> Image.Image:
        if image_id not in self._images:
            path = self.folder / f"{image_id}.png"
            if not path.is_file():
                raise FileNotFoundError(f"image {image_id!r}: {path} is missing (run vision_world)")
            with Image.open(path) as im:
                self._images[image_id] = im.convert("RGB")
        return self._images[image_id]

    def sha256(self, image_id: str) -> str:
        try:
            return self._sha[image_id]
        except KeyError:
            raise KeyError(f"image {image_id!r} has no record in the visual world") from None
