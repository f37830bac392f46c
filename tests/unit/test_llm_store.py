"""Label store: content-addressed keys, round trips, readers see committed batches only, and a
writer killed with SIGKILL loses no flushed label and leaves a store the next run resumes from."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

from trustir.llm.ledger import Ledger
from trustir.llm.store import LABELS, LabelStore, compute_missing, label_key, template_hash

BASE = {"model": "m@rev1", "prompt": template_hash("Grade {doc} for {query}", ["0", "1"])}
DECODING = {"method": "score", "options": ["0", "1"]}


def row(key: str, **kw: object) -> dict[str, object]:
    r: dict[str, object] = {
        "key": key,
        "task": "relevance",
        "query_id": "q1",
        "doc_id": "d1",
        "label": 1,
        "score": 0.8,
        "raw": '{"0": -1.6, "1": -0.2}',
        "status": "ok",
        "model": "m@rev1",
        "prompt_hash": BASE["prompt"],
        "tokens_in": 90,
        "tokens_out": 0,
        "latency_ms": 250.0,
    }
    r.update(kw)
    return r


def test_keys_change_with_every_part_and_only_then() -> None:
    content = {"query": "elbe length", "doc": "The Elbe is 1094 km long."}
    k = label_key(BASE["model"], BASE["prompt"], DECODING, content)
    assert len(k) == 64 and int(k, 16) >= 0
    same = label_key(BASE["model"], BASE["prompt"], dict(reversed(DECODING.items())), content)
    assert same == k  # canonical JSON: key order does not matter
    variants = [
        label_key("m@rev2", BASE["prompt"], DECODING, content),
        label_key(BASE["model"], template_hash("Grade {doc}!", ["0", "1"]), DECODING, content),
        label_key(BASE["model"], BASE["prompt"], {**DECODING, "temperature": 0.7}, content),
        label_key(BASE["model"], BASE["prompt"], DECODING, {**content, "doc": "The Elbe."}),
    ]
    assert len({k, *variants}) == 5


def test_round_trip_and_missing(tmp_path: Path) -> None:
    with LabelStore(tmp_path / "labels.sqlite") as store:
        assert store.put_many([row("a"), row("b", label=None, status="unparseable")]) == 2
        store.put_many([row("c", status="error", raw="timeout")])
        got = store.get_many(["a", "b", "zzz"])
        assert set(got) == {"a", "b"}
        assert got["a"]["label"] == 1 and got["a"]["score"] == 0.8 and got["a"]["doc_id"] == "d1"
        assert got["b"]["label"] is None and got["b"]["status"] == "unparseable"
        # errors are retried by default; unparseable answers are the model's and stay
        assert store.missing(["a", "b", "c", "d", "a"]) == ["c", "d"]
        assert store.missing(["a", "b", "c", "d"], retry_errors=False) == ["d"]
        df = store.frame(["b", "a", "nope"])
        assert df.schema == pl.Schema(LABELS)
        assert df["key"].to_list() == ["b", "a"]
        assert df["created_at"].null_count() == 0
    with LabelStore(tmp_path / "labels.sqlite") as again:  # persistent
        assert len(again) == 3


def test_bad_rows_are_errors(tmp_path: Path) -> None:
    store = LabelStore(tmp_path / "s.sqlite")
    with pytest.raises(ValueError, match="unknown column"):
        store.put_many([row("a", grade=2)])
    with pytest.raises(ValueError, match="status must be one of"):
        store.put_many([row("a", status="fine")])
    with pytest.raises(ValueError, match=r"lacks \['model'\]"):
        store.put_many([row("a", model=None)])
    assert len(store) == 0


def test_readers_see_only_flushed_rows(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    writer, reader = LabelStore(path, flush_every=3), LabelStore(path)
    writer.add(row("a"))
    writer.add(row("b"))
    assert reader.missing(["a", "b"]) == ["a", "b"]  # buffered, not flushed
    writer.add(row("c"))  # the third row flushes the batch
    assert reader.missing(["a", "b", "c"]) == []
    writer.add(row("d"))
    writer.close()  # closing flushes the rest
    assert reader.get("d") is not None


def test_compute_missing_computes_only_missing_and_counts_hits(tmp_path: Path) -> None:
    store = LabelStore(tmp_path / "s.sqlite")
    items = {f"k{i}": i for i in range(10)}
    store.put_many([row("k3"), row("k7")])
    seen: list[str] = []

    def compute(batch: list[tuple[str, int]]) -> list[dict[str, object]]:
        seen.extend(k for k, _ in batch)
        return [row(k, label=v % 4) for k, v in batch]

    ledger = Ledger()
    out = compute_missing(store, items, compute, flush_every=3, ledger=ledger)
    assert sorted(seen) == sorted(set(items) - {"k3", "k7"}) and set(out) == set(items)
    assert ledger.cache_hits == 2
    seen.clear()
    compute_missing(store, items, compute, ledger=ledger)  # a forced re-run: zero computations
    assert seen == [] and ledger.cache_hits == 12


WRITER = textwrap.dedent(
    """
    import sys
    from trustir.llm.store import LabelStore, compute_missing
    store = LabelStore(sys.argv[1])
    items = {f"{i:06d}": i for i in range(int(sys.argv[2]))}
    def compute(batch):
        # entering batch b means batches < b are committed
        print(f"computing {int(batch[0][0]) // 200}", flush=True)
        return [dict(key=k, task="t", label=v % 4, status="ok", model="m", prompt_hash="p",
                     raw="x" * 300) for k, v in batch]
    compute_missing(store, items, compute, flush_every=200)
    print("done", flush=True)
    """
)


def test_sigkill_loses_no_flushed_label_and_the_next_run_resumes(tmp_path: Path) -> None:
    path, total = tmp_path / "labels.sqlite", 100_000
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(total)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    flushed = 0
    for line in proc.stdout:
        if line.startswith("computing"):
            flushed = int(line.split()[1])  # batches 0..flushed-1 are committed
        if flushed >= 6:
            break
    proc.send_signal(signal.SIGKILL)  # mid-run, most likely inside a write
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    keys = [f"{i:06d}" for i in range(total)]
    with LabelStore(path) as store:
        have = len(store)
        assert have >= flushed * 200 and have % 200 == 0  # whole batches only
        assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)
        todo = store.missing(keys)
        assert todo == keys[have:]  # exactly the unflushed rest, in order
        assert store.get_many(keys[:have]).keys() == set(keys[:have])
        # resume: only the missing labels are computed
        calls: list[int] = []

        def compute(batch: list[tuple[str, int]]) -> list[dict[str, object]]:
            calls.append(len(batch))
            return [row(k, task="t") for k, _ in batch]

        items = {k: i for i, k in enumerate(keys[: have + 500])}
        compute_missing(store, items, compute, flush_every=200)
        assert sum(calls) == 500 and len(store) == have + 500
