"""The label store: a persistent, content-addressed cache of LLM labels, outside DVC's outputs.

Issue 3 ("Label store"), DESIGN.md (the ``labels`` table; "a forced re-run must cost zero
calls"). A label's key is sha256 over (model id and revision, prompt-template hash, decoding
params, input content), so only missing keys are ever computed. Storage is one SQLite file in WAL
mode (``cache_dir("labels")/labels.sqlite``): each flush is one transaction, so a run killed with
SIGKILL loses nothing already flushed, and the next open rolls back any half-written batch on its
own; readers never block the writer and see only committed batches. (SQLite's WAL needs a local
filesystem; put ``TRUSTIR_CACHE`` on NFS and concurrent writers may corrupt it.)
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from trustir.paths import cache_dir

T = TypeVar("T")

#: The ``labels`` table (DESIGN.md "Data contracts"). ``ids…`` are query_id, doc_id and a generic
#: item_id (any may be null); ``label`` is an integer class/grade (null when there is none),
#: ``score`` a number (expected grade, P(yes), confidence), ``raw`` the model's text or JSON
#: of option log-probs; ``latency_ms`` is the item's share of its batch's wall time.
LABELS: dict[str, pl.DataType] = {
    "key": pl.String,
    "task": pl.String,
    "query_id": pl.String,
    "doc_id": pl.String,
    "item_id": pl.String,
    "label": pl.Int64,
    "score": pl.Float64,
    "raw": pl.String,
    "status": pl.String,
    "model": pl.String,
    "prompt_hash": pl.String,
    "tokens_in": pl.Int64,
    "tokens_out": pl.Int64,
    "latency_ms": pl.Float64,
    "created_at": pl.Datetime("us", "UTC"),
}
STATUSES = ("ok", "unparseable", "error")
REQUIRED = ("key", "task", "status", "model", "prompt_hash")
_COLS = list(LABELS)

_DDL = f"""
CREATE TABLE IF NOT EXISTS labels (
  key TEXT PRIMARY KEY,
  task TEXT NOT NULL,
  query_id TEXT, doc_id TEXT, item_id TEXT,
  label INTEGER, score REAL, raw TEXT,
  status TEXT NOT NULL CHECK (status IN {STATUSES!r}),
  model TEXT NOT NULL, prompt_hash TEXT NOT NULL,
  tokens_in INTEGER, tokens_out INTEGER, latency_ms REAL,
  created_at TEXT NOT NULL
) WITHOUT ROWID
"""


def _canon(obj: Any) -> str:
    """Canonical JSON (sorted keys, no spaces): equal content → equal bytes → equal hash."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def template_hash(*parts: Any) -> str:
    """sha256 of a judge's prompt template and anything else that shapes its prompts or parsing
    (system text, options, parser version): change any part and every key changes."""
    return hashlib.sha256(_canon(list(parts)).encode()).hexdigest()


def label_key(model_id: str, prompt_hash: str, decoding: Mapping[str, Any], content: Any) -> str:
    """The content address of one label.

    ``model_id`` carries the revision (``name@rev``); ``decoding`` the decoding params (method,
    options, temperature, n, max_new_tokens, seed...); ``content`` the item's input (query and
    document text, not only their ids: edited text must be re-judged).
    """
    payload = {"model": model_id, "prompt": prompt_hash, "decoding": decoding, "input": content}
    return hashlib.sha256(_canon(payload).encode()).hexdigest()


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _check(row: Mapping[str, Any]) -> tuple[Any, ...]:
    extra = set(row) - set(_COLS)
    if extra:
        raise ValueError(f"label row has unknown column(s) {sorted(extra)}; known: {_COLS}")
    missing = [c for c in REQUIRED if row.get(c) in (None, "")]
    if missing:
        raise ValueError(f"label row lacks {missing}")
    if row["status"] not in STATUSES:
        raise ValueError(f"label status must be one of {STATUSES}, got {row['status']!r}")
    vals = dict(row)
    vals["created_at"] = vals.get("created_at") or now_utc()
    if isinstance(vals["created_at"], datetime):
        vals["created_at"] = vals["created_at"].astimezone(UTC).isoformat(timespec="microseconds")
    if vals.get("label") is not None:
        vals["label"] = int(vals["label"])
    return tuple(vals.get(c) for c in _COLS)


def _when_unlocked(fn: Callable[[], T], timeout_s: float, path: Path) -> T:
    """``fn()``, tried again while SQLite reports the file locked or busy (two processes
    opening a new store at once: switching to WAL takes a lock the busy timeout does not wait
    for), up to ``timeout_s``; then the error, naming the file."""
    deadline = time.monotonic() + timeout_s
    wait = 0.01
    while True:
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            transient = "locked" in str(exc) or "busy" in str(exc)
            if not transient or time.monotonic() > deadline:
                raise sqlite3.OperationalError(f"{path}: {exc}") from exc
            time.sleep(wait)
            wait = min(wait * 2, 0.5)


class LabelStore:
    """Labels by key in one SQLite file; ``put_many`` commits a batch atomically.

    ``add`` buffers rows and flushes every ``flush_every``; ``flush`` (and closing, and leaving a
    ``with`` block) commits the rest. Thread-safe; several processes may read and write it.
    """

    def __init__(
        self, path: str | Path | None = None, flush_every: int = 64, timeout_s: float = 60.0
    ) -> None:
        self.path = Path(path) if path else cache_dir("labels") / "labels.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.flush_every = flush_every
        self.timeout_s = timeout_s
        self._lock = threading.RLock()
        self._buffer: list[tuple[Any, ...]] = []
        # IMMEDIATE: a write transaction takes the write lock when it begins, waiting up to
        # timeout_s for another process's (a deferred one could fail at once on upgrade)
        self._db = sqlite3.connect(
            self.path, timeout=timeout_s, check_same_thread=False, isolation_level="IMMEDIATE"
        )
        _when_unlocked(self._open_schema, timeout_s, self.path)

    def _open_schema(self) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable across process kills
        with self._db:
            self._db.execute(_DDL)

    def __enter__(self) -> LabelStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM labels").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self.flush()
                self._db.close()
                self._db = None  # type: ignore[assignment]

    # ---- writes ---------------------------------------------------------------------------
    def put_many(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert or replace ``rows`` in one transaction (all or nothing); returns the count."""
        vals = [_check(r) for r in rows]
        if not vals:
            return 0
        with self._lock:
            self._write(vals)
        return len(vals)

    def _write(self, vals: list[tuple[Any, ...]]) -> None:
        """One transaction of ``vals`` (all or nothing), retried while another process holds
        the file past the busy timeout: never a ``database is locked`` failure."""
        marks = ",".join("?" * len(_COLS))
        sql = f"INSERT OR REPLACE INTO labels ({','.join(_COLS)}) VALUES ({marks})"  # noqa: S608  constant columns

        def write() -> None:
            with self._db:  # commits, or rolls back on any error
                self._db.executemany(sql, vals)

        _when_unlocked(write, self.timeout_s, self.path)

    def add(self, row: Mapping[str, Any]) -> None:
        """Buffer one row; flushes when ``flush_every`` rows wait."""
        with self._lock:
            self._buffer.append(_check(row))
            if len(self._buffer) >= self.flush_every:
                self.flush()

    def flush(self) -> int:
        """Commit the buffered rows (one transaction)."""
        with self._lock:
            rows, self._buffer = self._buffer, []
            if not rows:
                return 0
            self._write(rows)
            return len(rows)

    # ---- reads ----------------------------------------------------------------------------
    def _select(self, keys: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        with self._lock:
            for k in range(0, len(keys), 500):
                part = list(keys[k : k + 500])
                marks = ",".join("?" * len(part))
                q = f"SELECT {','.join(_COLS)} FROM labels WHERE key IN ({marks})"  # noqa: S608  column names are module constants; keys bound
                yield from self._db.execute(q, part).fetchall()

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored rows of ``keys`` (those present), by key."""
        return {
            r[0]: dict(zip(_COLS, r, strict=True)) for r in self._select(list(dict.fromkeys(keys)))
        }

    def get(self, key: str) -> dict[str, Any] | None:
        return self.get_many([key]).get(key)

    def missing(self, keys: Iterable[str], retry_errors: bool = True) -> list[str]:
        """Keys with no stored label, in input order (without repeats); with ``retry_errors``,
        a stored ``error`` also counts as missing (transient failures are retried next run;
        ``unparseable`` is the model's real answer and stays)."""
        keys = list(dict.fromkeys(keys))
        have = {
            r[0]
            for r in self._select(keys)
            if not (retry_errors and r[_COLS.index("status")] == "error")
        }
        return [k for k in keys if k not in have]

    def frame(self, keys: Iterable[str] | None = None) -> pl.DataFrame:
        """The labels table of ``keys`` (input order, absent ones skipped), or of all."""
        if keys is None:
            with self._lock:
                rows = self._db.execute(f"SELECT {','.join(_COLS)} FROM labels ORDER BY key")  # noqa: S608  column names are module constants
                data = rows.fetchall()
        else:
            order = list(dict.fromkeys(keys))
            got = {r[0]: r for r in self._select(order)}
            data = [got[k] for k in order if k in got]
        df = pl.DataFrame(
            data,
            schema={c: (pl.String if c == "created_at" else t) for c, t in LABELS.items()},
            orient="row",
        )
        return df.with_columns(
            pl.col("created_at").str.to_datetime(time_unit="us", time_zone="UTC")
        )


def compute_missing(
    store: LabelStore,
    items: Mapping[str, T],
    compute: Callable[[list[tuple[str, T]]], Sequence[Mapping[str, Any]]],
    flush_every: int = 64,
    ledger: Any | None = None,
    retry_errors: bool = True,
) -> dict[str, dict[str, Any]]:
    """Labels for every ``items`` key: cached ones read, missing ones computed in batches.

    ``compute`` gets a batch of (key, item) pairs and returns one row per pair (with its ``key``);
    each batch is committed before the next starts, so a killed run resumes where it stopped.
    ``ledger`` (a :class:`trustir.llm.ledger.Ledger`) counts the cache hits (calls, tokens and
    seconds come from ``ledger.track(backend)`` around this call).
    """
    todo = store.missing(items.keys(), retry_errors=retry_errors)
    if ledger is not None:
        ledger.add(cache_hits=len(items) - len(todo))
    pending = [(k, items[k]) for k in todo]
    for start in range(0, len(pending), flush_every):
        batch = pending[start : start + flush_every]
        rows = list(compute(batch))
        want = {k for k, _ in batch}
        got = {r["key"] for r in rows}
        if got != want:
            raise ValueError(
                f"compute returned rows for {len(got & want)} of {len(want)} keys "
                f"(+{len(got - want)} unknown)"
            )
        store.put_many(rows)
    return store.get_many(items.keys())
