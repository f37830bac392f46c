"""The ``beir`` source: download a BEIR archive once, verify its pinned checksum, extract safely.

``load_beir`` fetches ``{base}/{name}.zip`` (base: argument, ``$TRUSTIR_BEIR_URL`` or BEIR's
official server) into ``cache_dir("beir")``, streaming to a ``.part`` file that is renamed to
``{name}.zip`` only once its checksum matches; it then extracts into a temp folder, refusing
absolute, escaping and symlink members, and renames the dataset folder into place with a marker
file. A finished folder (marker present, same checksum) is reused without any request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import polars as pl
import requests
from tqdm.auto import tqdm

from trustir import __version__
from trustir.io.beir import find_beir_root, read_beir
from trustir.paths import cache_dir
from trustir.sources.empty import handle_empty_documents
from trustir.sources.params import DataParams
from trustir.sources.registry import SOURCES
from trustir.sources.subset import subset

log = logging.getLogger(__name__)

BASE_URL = "https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets"
URL_ENV = "TRUSTIR_BEIR_URL"
#: a checksum (``md5:<hex>``, ``sha256:<hex>`` or bare hex) for a dataset not in KNOWN.
CHECKSUM_ENV = "TRUSTIR_BEIR_CHECKSUM"
MARKER = ".trustir-beir.json"

#: md5 of each archive as published in the BEIR README (github.com/beir-cellar/beir, "Available
#: Datasets"). cqadupstack is left out: its archive nests one BEIR folder per forum.
KNOWN: dict[str, str] = {
    "scifact": "5f7d1de60b170fc8027bb7898e2efca1",
    "nfcorpus": "a89dba18a62ef92f7d323ec890a0d38d",
    "arguana": "8ad3e3c2a5867cdced806d6503f29b99",
    "scidocs": "38121350fc3a4d2f48850f6aff52e4a9",
    "fiqa": "17918ed23cd04fb15047f73e6c3bd9d9",
    "trec-covid": "ce62140cb23feb9becf6270d0d1fe6d1",
    "webis-touche2020": "46f650ba5a527fc69e0a6521c5a23563",
    "quora": "18fb154900ba42a600f84b839c173167",
    "nq": "d4d3d2e48787a744b6f6e691ff534307",
    "hotpotqa": "f412724f78b0d91183a0e86805e16114",
    "dbpedia-entity": "c2a39eb420a3164af735795df012ac2c",
    "fever": "5a818580227bfb4b35bb6fa46d9b6c03",
    "climate-fever": "8b66f0a9126c521bae2bde127b4dc99d",
    "msmarco": "444067daf65d982533ea17ebd59501e4",
}

_ALGOS = {32: "md5", 64: "sha256"}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_CHUNK = 1 << 20
#: zip-bomb guards: the total extracted size (bytes) and a member's expansion ratio; members
#: under ``_RATIO_FLOOR`` bytes are not ratio-checked (tiny files compress oddly).
MAX_EXTRACT_BYTES = 32 << 30
MAX_EXTRACT_ENV = "TRUSTIR_BEIR_MAX_EXTRACT"
MAX_RATIO = 200
_RATIO_FLOOR = 1 << 20


class BeirDownloadError(RuntimeError):
    """A BEIR archive that could not be fetched (offline, HTTP error, unknown dataset)."""


class ChecksumMismatchError(BeirDownloadError):
    """The downloaded archive's checksum differs from the pinned one; the download is discarded."""


class UnsafeArchiveError(BeirDownloadError):
    """An archive member that would land outside the target folder, is a link, or expands
    beyond the extraction caps (a zip bomb): refused."""


class _Retryable(Exception):
    """A transient failure (5xx, truncated body) worth another attempt."""


# ---------------------------------------------------------------- names, URLs, checksums


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name) or ".." in name:
        raise BeirDownloadError(f"invalid BEIR dataset name {name!r} (letters, digits, . _ -)")


def dataset_url(name: str, base_url: str | None = None) -> str:
    """``{base}/{name}.zip``; base: ``base_url``, ``$TRUSTIR_BEIR_URL`` or BEIR's server."""
    base = base_url or os.environ.get(URL_ENV) or BASE_URL
    return f"{base.rstrip('/')}/{name}.zip"


def parse_checksum(spec: str) -> tuple[str, str]:
    """``"md5:<hex>"``, ``"sha256:<hex>"`` or bare hex (by length) → ``(algorithm, hex)``."""
    text = spec.strip().lower()
    algo, _, digest = text.rpartition(":")
    algo = algo or _ALGOS.get(len(digest), "")
    if algo not in _ALGOS.values() or not re.fullmatch(r"[0-9a-f]+", digest):
        raise ValueError(f"bad checksum {spec!r}: expected md5:<32 hex> or sha256:<64 hex>")
    if len(digest) != {"md5": 32, "sha256": 64}[algo]:
        raise ValueError(f"bad checksum {spec!r}: wrong length for {algo}")
    return algo, digest


def expected_checksum(name: str, checksum: str | None = None) -> tuple[str, str]:
    """The checksum to verify: ``checksum``, else KNOWN[name], else ``$TRUSTIR_BEIR_CHECKSUM``."""
    spec = checksum or KNOWN.get(name) or os.environ.get(CHECKSUM_ENV)
    if not spec:
        raise BeirDownloadError(
            f"unknown BEIR dataset {name!r}: no pinned checksum. Known: {', '.join(sorted(KNOWN))}."
            f" For another archive pass checksum='md5:<hex>' or set {CHECKSUM_ENV}."
        )
    return parse_checksum(spec)


# ---------------------------------------------------------------- download


def _stream(url: str, part: Path, timeout: float, progress: bool, desc: str) -> dict[str, str]:
    """GET ``url`` into ``part``; returns its md5, sha256 and size."""
    md5, sha256, size = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0
    headers = {"User-Agent": f"trustir/{__version__}"}
    with requests.get(url, stream=True, timeout=timeout, headers=headers) as resp:
        if resp.status_code >= 500:
            raise _Retryable(f"HTTP {resp.status_code}")
        if resp.status_code >= 400:
            raise BeirDownloadError(f"{url}: HTTP {resp.status_code} {resp.reason}")
        total = int(resp.headers.get("content-length") or 0) or None
        bar = tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=desc,
            disable=None if progress else True,
            leave=False,
        )
        with part.open("wb") as fh, bar:
            for chunk in resp.iter_content(_CHUNK):
                fh.write(chunk)
                md5.update(chunk)
                sha256.update(chunk)
                size += len(chunk)
                bar.update(len(chunk))
    if total is not None and size != total:
        raise _Retryable(f"truncated body: {size} of {total} bytes")
    return {"md5": md5.hexdigest(), "sha256": sha256.hexdigest(), "size": str(size)}


_TRANSIENT = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    _Retryable,
)


def download(
    url: str,
    part: Path,
    *,
    timeout: float = 30.0,
    retries: int = 2,
    backoff: float = 1.0,
    progress: bool = True,
    desc: str | None = None,
) -> dict[str, str]:
    """Stream ``url`` into ``part`` with ``retries`` extra attempts on transient errors.

    Returns ``{"md5", "sha256", "size"}``; raises BeirDownloadError with an offline hint.
    """
    last: Exception | None = None
    for attempt in range(retries + 1):
        try:
            return _stream(url, part, timeout, progress, desc or url.rsplit("/", 1)[-1])
        except _TRANSIENT as exc:
            last = exc
            log.warning("download of %s failed (attempt %d): %s", url, attempt + 1, exc)
            if attempt < retries:
                time.sleep(backoff * 2**attempt)
        except requests.RequestException as exc:  # a bad URL, too many redirects...
            raise BeirDownloadError(f"could not download {url}: {exc}") from exc
    raise BeirDownloadError(
        f"could not download {url} after {retries + 1} attempt(s): {last}. Offline? Set "
        f"{URL_ENV} to a reachable mirror, or unzip the archive and use data.source 'local' "
        "with data.path."
    )


def file_digests(path: Path) -> dict[str, str]:
    """md5, sha256 and size of a file, read in chunks."""
    md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            md5.update(chunk)
            sha256.update(chunk)
    return {"md5": md5.hexdigest(), "sha256": sha256.hexdigest(), "size": str(path.stat().st_size)}


# ---------------------------------------------------------------- safe extraction


def _member_target(info: zipfile.ZipInfo, dest: Path, archive: Path) -> Path:
    """Where ``info`` extracts to; UnsafeArchiveError for links, special files, escapes."""
    name = info.filename
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        raise UnsafeArchiveError(f"{archive}: member {name!r} is a symbolic link; refused")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise UnsafeArchiveError(f"{archive}: member {name!r} is not a regular file; refused")
    posix = name.replace("\\", "/")
    win = PureWindowsPath(name)
    if posix.startswith("/") or win.drive or win.root:
        raise UnsafeArchiveError(f"{archive}: member {name!r} has an absolute path; refused")
    if ".." in PurePosixPath(posix).parts:
        raise UnsafeArchiveError(f"{archive}: member {name!r} escapes the target folder; refused")
    target = (dest / posix).resolve()
    if not target.is_relative_to(dest.resolve()):
        raise UnsafeArchiveError(f"{archive}: member {name!r} escapes the target folder; refused")
    return target


def max_extract_bytes() -> int:
    """The cap on an archive's extracted size: ``$TRUSTIR_BEIR_MAX_EXTRACT`` bytes, else
    :data:`MAX_EXTRACT_BYTES` (the largest BEIR archive, MS MARCO, extracts to a few GB)."""
    value = os.environ.get(MAX_EXTRACT_ENV)
    if not value:
        return MAX_EXTRACT_BYTES
    if not value.isdigit():
        raise BeirDownloadError(f"${MAX_EXTRACT_ENV} must be a number of bytes, got {value!r}")
    return int(value)


def _check_sizes(zf: zipfile.ZipFile, archive: Path, max_bytes: int) -> None:
    """Refuse a zip bomb before writing anything: a total extracted size over ``max_bytes`` or a
    member whose size is over :data:`MAX_RATIO` times its compressed size."""
    total = 0
    for info in zf.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR and ratio > MAX_RATIO:
            raise UnsafeArchiveError(
                f"{archive}: member {info.filename!r} expands {ratio:.0f}x "
                f"(over {MAX_RATIO}x: a zip bomb?); refused"
            )
    if total > max_bytes:
        raise UnsafeArchiveError(
            f"{archive}: extracts to {total} bytes, over the cap of {max_bytes} "
            f"(${MAX_EXTRACT_ENV} raises it); refused"
        )


def _copy_capped(src: Any, dst: Any, left: int, archive: Path, name: str) -> int:
    """Copy ``src`` to ``dst``; UnsafeArchiveError once more than ``left`` bytes came out
    (sizes in the zip's directory could lie). Returns the bytes copied."""
    copied = 0
    while chunk := src.read(_CHUNK):
        copied += len(chunk)
        if copied > left:
            raise UnsafeArchiveError(f"{archive}: member {name!r} exceeds the extraction cap")
        dst.write(chunk)
    return copied


def safe_extract(archive: Path, dest: Path, max_bytes: int | None = None) -> None:
    """Extract ``archive`` into ``dest`` after checking every member (nothing written if unsafe):
    no links, special files, absolute or escaping paths, and at most ``max_bytes`` in all
    (default :func:`max_extract_bytes`) with no member expanding over :data:`MAX_RATIO` times."""
    max_bytes = max_extract_bytes() if max_bytes is None else max_bytes
    with zipfile.ZipFile(archive) as zf:
        plan = [(info, _member_target(info, dest, archive)) for info in zf.infolist()]
        _check_sizes(zf, archive, max_bytes)
        left = max_bytes
        for info, target in plan:
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, target.open("wb") as dst:
                left -= _copy_capped(src, dst, left, archive, info.filename)


# ---------------------------------------------------------------- the cache


def _is_complete(folder: Path, algo: str, digest: str) -> bool:
    try:
        meta = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):  # no marker, or a torn one: not complete, so it is fetched again
        return False
    return meta.get(algo) == digest


def _verified_zip(zip_path: Path, algo: str, digest: str) -> dict[str, str] | None:
    """Digests of a cached archive that still matches; a stale one is deleted."""
    if not zip_path.is_file():
        return None
    digests = file_digests(zip_path)
    if digests[algo] == digest:
        return digests
    log.warning("cached %s does not match its checksum; downloading again", zip_path)
    zip_path.unlink()
    return None


def _fetch_zip(
    name: str, url: str, cache: Path, algo: str, digest: str, opts: dict[str, Any]
) -> dict[str, str]:
    """Download ``url`` to ``{name}.zip`` in ``cache`` via a ``.part`` file; verify first."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".zip.part", dir=cache)
    os.close(fd)
    part = Path(tmp)
    try:
        log.info("downloading %s", url)
        digests = download(url, part, desc=name, **opts)
        if digests[algo] != digest:
            raise ChecksumMismatchError(
                f"{url}: {algo} {digests[algo]} differs from the pinned {digest}; download "
                "discarded (a corrupted transfer, or the archive changed upstream)"
            )
        os.replace(part, cache / f"{name}.zip")
    finally:
        part.unlink(missing_ok=True)
    return digests


def _install(zip_path: Path, target: Path, meta: dict[str, str]) -> None:
    """Extract into a temp folder beside ``target``, add the marker, rename it into place."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".extract", dir=target.parent))
    try:
        safe_extract(zip_path, tmp)
        root = find_beir_root(tmp)
        (root / MARKER).write_text(json.dumps(meta, indent=2) + "\n")
        if target.exists():  # an unfinished or outdated copy
            shutil.rmtree(target)
        os.replace(root, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fetch_beir(
    name: str,
    *,
    cache: str | Path | None = None,
    base_url: str | None = None,
    checksum: str | None = None,
    timeout: float = 30.0,
    retries: int = 2,
    backoff: float = 1.0,
    progress: bool = True,
) -> Path:
    """The extracted BEIR folder of dataset ``name``, downloading and verifying it if needed.

    ``cache`` defaults to ``cache_dir("beir")``; ``checksum`` (``md5:<hex>``/``sha256:<hex>``)
    overrides the pinned one; a name not in KNOWN needs it (or ``$TRUSTIR_BEIR_CHECKSUM``).
    """
    _check_name(name)
    algo, digest = expected_checksum(name, checksum)
    cache = Path(cache) if cache is not None else cache_dir("beir")
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / name
    if _is_complete(target, algo, digest):
        log.info("using cached BEIR %s at %s", name, target)
        return target
    url = dataset_url(name, base_url)
    zip_path = cache / f"{name}.zip"
    opts = {"timeout": timeout, "retries": retries, "backoff": backoff, "progress": progress}
    digests = _verified_zip(zip_path, algo, digest) or _fetch_zip(
        name, url, cache, algo, digest, opts
    )
    meta = {"name": name, "url": url, **digests}
    try:
        _install(zip_path, target, meta)
    except (UnsafeArchiveError, FileNotFoundError, zipfile.BadZipFile):
        zip_path.unlink(missing_ok=True)  # a refused archive is not worth keeping
        raise
    return target


@SOURCES.register("beir")
def load_beir(params: DataParams, root: Path | None = None) -> dict[str, pl.DataFrame]:
    """Fetch BEIR dataset ``params.name`` (cached), read it, apply ``max_queries``/``max_docs``.

    ``root`` is unused (the cache lives outside the repo); it keeps the source signature.
    """
    folder = fetch_beir(params.name)
    tables = handle_empty_documents(read_beir(folder), params.empty_docs, params.name)
    return subset(tables, params.max_queries, params.max_docs, params.seed)
