"""Seeded image perturbations for P10's consistency over perturbed images: blur, noise, crop.

Each is a pure function of (image, strength, seed): the same arguments give the same pixels, so
a perturbed image has a stable content hash and its VLM replies are cached like any other.
"""

from __future__ import annotations

import hashlib

import numpy as np
from PIL import Image, ImageFilter

from trustir.sources.world.visual import png_bytes


def blur(image: Image.Image, radius: float) -> Image.Image:
    """Gaussian blur of ``radius`` pixels (deterministic; no seed needed)."""
    return image.filter(ImageFilter.GaussianBlur(radius))


def noise(image: Image.Image, std: float, seed: int) -> Image.Image:
    """Additive Gaussian pixel noise (std on the 0-255 scale), clipped, from ``seed``."""
    px = np.asarray(image.convert("RGB"), dtype=np.float64)  # (H, W, 3)
    px = px + np.random.default_rng(seed).normal(0.0, std, px.shape)
    return Image.fromarray(np.clip(np.rint(px), 0, 255).astype(np.uint8), "RGB")


def crop(image: Image.Image, keep: float, seed: int) -> Image.Image:
    """A window keeping ``keep`` of each side at a seeded offset, resized back to full size."""
    w, h = image.size
    cw, ch = max(1, round(w * keep)), max(1, round(h * keep))
    rng = np.random.default_rng(seed)
    x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    return image.crop((x0, y0, x0 + cw, y0 + ch)).resize((w, h), Image.Resampling.BICUBIC)


def perturb(image: Image.Image, kind: str, params: object, seed: int) -> Image.Image:
    """The perturbation ``kind`` (blur | noise | crop) at ``params``' strength (``lvlm``)."""
    if kind == "blur":
        return blur(image, params.blur_radius)  # type: ignore[attr-defined]
    if kind == "noise":
        return noise(image, params.noise_std, seed)  # type: ignore[attr-defined]
    if kind == "crop":
        return crop(image, params.crop_keep, seed)  # type: ignore[attr-defined]
    raise ValueError(f"unknown perturbation {kind!r}; known: blur, noise, crop")


def image_sha(image: Image.Image) -> str:
    """sha256 of the image's deterministic PNG bytes (as the visual world hashes its renders)."""
    return hashlib.sha256(png_bytes(image)).hexdigest()
