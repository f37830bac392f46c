"""BEIR downloads from a loopback HTTP server: checksums, cache reuse, unsafe archives, offline."""

from __future__ import annotations

import hashlib
import io
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from trustir.sources import beir
from trustir.sources.beir import (
    MARKER,
    BeirDownloadError,
    ChecksumMismatchError,
    UnsafeArchiveError,
    fetch_beir,
    load_beir,
    parse_checksum,
)
from trustir.sources.params import DataParams
from trustir.sources.registry import SOURCES

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "beir_tiny"
FAST = {"timeout": 5.0, "retries": 1, "backoff": 0.0, "progress": False}


@dataclass
class Server:
    """A loopback server of in-memory files; ``hits`` lists the requested paths."""

    url: str
    files: dict[str, bytes] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)  # status codes to answer first


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRUSTIR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.delenv(beir.URL_ENV, raising=False)
    monkeypatch.delenv(beir.CHECKSUM_ENV, raising=False)


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            state.hits.append(self.path)
            if state.fail_next:
                self.send_error(state.fail_next.pop(0))
                return
            body = state.files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/datasets"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def beir_zip(name: str, extra: dict[str, bytes] | None = None, links: dict | None = None) -> bytes:
    """The fixture folder zipped as BEIR does (``name/corpus.jsonl``...), plus odd members."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{name}/", b"")
        for path in sorted(TINY.rglob("*")):
            if path.is_file():
                zf.writestr(f"{name}/{path.relative_to(TINY).as_posix()}", path.read_bytes())
        for member, data in (extra or {}).items():
            zf.writestr(zipfile.ZipInfo(member), data)
        for member, target in (links or {}).items():
            info = zipfile.ZipInfo(member)
            info.create_system = 3  # unix, so the mode bits count
            info.external_attr = 0o120777 << 16  # a symbolic link
            zf.writestr(info, target)
    return buf.getvalue()


def md5(data: bytes) -> str:
    return "md5:" + hashlib.md5(data).hexdigest()  # noqa: S324  BEIR publishes md5 checksums


def serve(server: Server, name: str, data: bytes) -> None:
    server.files[f"/datasets/{name}.zip"] = data


def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "beir"


def leftovers(folder: Path) -> list[str]:
    """Everything in the cache folder (finished datasets, archives, temp files)."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_good_archive_is_verified_extracted_and_reused(server: Server, tmp_path: Path) -> None:
    data = beir_zip("tiny")
    serve(server, "tiny", data)
    folder = fetch_beir("tiny", base_url=server.url, checksum=md5(data), **FAST)
    assert folder == cache(tmp_path) / "tiny"
    assert (folder / "corpus.jsonl").read_bytes() == (TINY / "corpus.jsonl").read_bytes()
    assert (folder / MARKER).is_file()
    assert leftovers(cache(tmp_path)) == ["tiny", "tiny.zip"]
    assert server.hits == ["/datasets/tiny.zip"]
    # second call: served from the cache, no request
    assert fetch_beir("tiny", base_url=server.url, checksum=md5(data), **FAST) == folder
    assert len(server.hits) == 1
    # extracted folder lost: re-extracted from the verified archive, still no request
    for p in folder.rglob("*"):
        if p.is_file():
            p.unlink()
    (folder / MARKER).unlink(missing_ok=True)
    assert fetch_beir("tiny", base_url=server.url, checksum=md5(data), **FAST) == folder
    assert (folder / "qrels" / "test.tsv").is_file()
    assert len(server.hits) == 1


def test_load_beir_uses_env_url_pinned_checksum_and_subset(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = beir_zip("tiny")
    serve(server, "tiny", data)
    monkeypatch.setenv(beir.URL_ENV, server.url)
    monkeypatch.setitem(beir.KNOWN, "tiny", hashlib.md5(data).hexdigest())  # noqa: S324  BEIR publishes md5 checksums
    params = DataParams(source="beir", name="tiny", max_queries=1)
    tables = SOURCES.get("beir")(params, None)
    assert SOURCES.get("beir") is load_beir
    assert sorted(tables["queries"]["split"].to_list()) == ["test", "train"]
    assert tables["corpus"].height == 8
    assert len(server.hits) == 1


def test_env_checksum_allows_an_unknown_name(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = beir_zip("tiny")
    serve(server, "tiny", data)
    monkeypatch.setenv(beir.CHECKSUM_ENV, "sha256:" + hashlib.sha256(data).hexdigest())
    assert (fetch_beir("tiny", base_url=server.url, **FAST) / "corpus.jsonl").is_file()


def test_corrupted_archive_fails_checksum_and_leaves_nothing(
    server: Server, tmp_path: Path
) -> None:
    data = beir_zip("tiny")
    bad = bytearray(data)
    bad[len(bad) // 2] ^= 0xFF
    serve(server, "tiny", bytes(bad))
    with pytest.raises(ChecksumMismatchError, match="differs from the pinned"):
        fetch_beir("tiny", base_url=server.url, checksum=md5(data), **FAST)
    assert leftovers(cache(tmp_path)) == []


def test_path_traversal_member_is_refused(server: Server, tmp_path: Path) -> None:
    data = beir_zip("tiny", extra={"../evil.txt": b"pwned", "tiny/../../evil2.txt": b"pwned"})
    serve(server, "tiny", data)
    with pytest.raises(UnsafeArchiveError, match="escapes the target folder"):
        fetch_beir("tiny", base_url=server.url, checksum=md5(data), **FAST)
    assert not list(tmp_path.rglob("evil*.txt"))
    assert leftovers(cache(tmp_path)) == []


def test_absolute_member_is_refused(server: Server, tmp_path: Path) -> None:
    target = tmp_path / "abs.txt"
    data = beir_zip("tiny", extra={target.as_posix(): b"pwned"})
    serve(server, "tiny", data)
    with pytest.raises(UnsafeArchiveError, match="absolute path"):
        fetch_beir("tiny", base_url=server.url, checksum=md5(data), **FAST)
    assert not target.exists()
    assert leftovers(cache(tmp_path)) == []


def test_symlink_member_is_refused(server: Server, tmp_path: Path) -> None:
    data = beir_zip("tiny", links={"tiny/link": b"/etc/passwd"})
    serve(server, "tiny", data)
    with pytest.raises(UnsafeArchiveError, match="symbolic link"):
        fetch_beir("tiny", base_url=server.url, checksum=md5(data), **FAST)
    assert leftovers(cache(tmp_path)) == []


def bomb_zip(name: str, member_bytes: int) -> bytes:
    """The fixture archive plus one deflated member of zeros (about 1000x smaller zipped)."""
    buf = io.BytesIO(beir_zip(name))
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{name}/zeros.bin", b"\0" * member_bytes)
    return buf.getvalue()


def test_zip_bomb_member_is_refused_before_writing(server: Server, tmp_path: Path) -> None:
    data = bomb_zip("tiny", 8 << 20)  # 8 MiB of zeros in ~8 KiB
    serve(server, "tiny", data)
    with pytest.raises(UnsafeArchiveError, match=r"zeros\.bin' expands \d+x \(over 200x"):
        fetch_beir("tiny", base_url=server.url, checksum=md5(data), **FAST)
    assert not list(tmp_path.rglob("zeros.bin"))
    assert leftovers(cache(tmp_path)) == []


def test_extraction_over_the_size_cap_is_refused(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = beir_zip("tiny")
    serve(server, "tiny", data)
    monkeypatch.setenv("TRUSTIR_BEIR_MAX_EXTRACT", "100")  # the fixture extracts to ~1.5 KB
    with pytest.raises(UnsafeArchiveError, match=r"over the cap of 100 .*TRUSTIR_BEIR_MAX_EXTRACT"):
        fetch_beir("tiny", base_url=server.url, checksum=md5(data), **FAST)
    assert leftovers(cache(tmp_path)) == []
    monkeypatch.setenv("TRUSTIR_BEIR_MAX_EXTRACT", str(1 << 20))  # a cap it fits: installed
    assert (fetch_beir("tiny", base_url=server.url, checksum=md5(data), **FAST) / MARKER).is_file()


def test_a_member_larger_than_its_directory_entry_is_cut_off(tmp_path: Path) -> None:
    """Sizes in the zip directory could lie: the copy itself stops at the cap."""
    from trustir.sources.beir import _copy_capped

    src, dst = io.BytesIO(b"x" * 5000), io.BytesIO()
    with pytest.raises(UnsafeArchiveError, match="exceeds the extraction cap"):
        _copy_capped(src, dst, 4096, tmp_path / "a.zip", "m")
    assert _copy_capped(io.BytesIO(b"x" * 10), io.BytesIO(), 10, tmp_path / "a.zip", "m") == 10


def test_server_error_is_retried(server: Server) -> None:
    data = beir_zip("tiny")
    serve(server, "tiny", data)
    server.fail_next.append(503)
    assert fetch_beir("tiny", base_url=server.url, checksum=md5(data), **FAST).is_dir()
    assert len(server.hits) == 2


def test_missing_archive_is_a_clear_error_without_retries(server: Server) -> None:
    with pytest.raises(BeirDownloadError, match="HTTP 404"):
        fetch_beir("nope", base_url=server.url, checksum="0" * 32, **FAST)
    assert len(server.hits) == 1


def test_unreachable_server_fails_fast_with_offline_hint(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    start = time.perf_counter()
    with pytest.raises(BeirDownloadError, match="after 2 attempt.*Offline"):
        fetch_beir("tiny", base_url=f"http://127.0.0.1:{port}", checksum="0" * 32, **FAST)
    assert time.perf_counter() - start < 5
    assert leftovers(cache(tmp_path)) == []


def test_unknown_name_lists_known_datasets_without_a_request() -> None:
    with pytest.raises(BeirDownloadError, match="unknown BEIR dataset 'tiny'.*scifact"):
        fetch_beir("tiny", base_url="http://127.0.0.1:9", **FAST)
    with pytest.raises(BeirDownloadError, match="invalid BEIR dataset name"):
        fetch_beir("../tiny", checksum="0" * 32, **FAST)


def test_parse_checksum() -> None:
    assert parse_checksum("5F7D1DE60B170FC8027BB7898E2EFCA1") == (
        "md5",
        "5f7d1de60b170fc8027bb7898e2efca1",
    )
    assert parse_checksum("sha256:" + "a" * 64) == ("sha256", "a" * 64)
    for bad in ("md5:xyz", "sha1:" + "a" * 40, "a" * 40, "md5:" + "a" * 64):
        with pytest.raises(ValueError, match="bad checksum"):
            parse_checksum(bad)
