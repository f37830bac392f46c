"""Fan-out on Dask (issue 18): the serial path, the label store under two writing processes,
and a worker killed mid-shard (rescheduled by Dask, nothing lost, nothing done twice)."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from pathlib import Path

import pytest

from trustir.llm.store import LabelStore
from trustir.scale.fanout import enabled, fan_out, shards_of
from trustir.scale.params import FanoutParams
from trustir.scale.testing import logged_shard, write_rows

TWO = FanoutParams(workers=2, threads_per_worker=1)


def _square_sum(shard: list[int], offset: int = 0) -> int:
    return sum(x * x for x in shard) + offset


def test_shards_keep_order_and_serial_is_in_process() -> None:
    assert shards_of(list(range(7)), 3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert not enabled(None) and not enabled(FanoutParams()) and enabled(TWO)
    assert enabled(FanoutParams(scheduler="tcp://127.0.0.1:8786"))
    calls: list[list[int]] = []
    out = fan_out(lambda s, k: calls.append(s) or len(s) * k, [[1], [2, 3]], None, k=10)
    assert out == [10, 20] and calls == [[1], [2, 3]]  # a lambda: never left this process


def test_two_processes_write_one_store_at_once(tmp_path: Path) -> None:
    store, go = str(tmp_path / "labels.sqlite"), tmp_path / "go"
    a = [f"k-{i}" for i in range(0, 1200)]
    b = [f"k-{i}" for i in range(600, 1800)]  # 600 keys written by both
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        jobs = [pool.apply_async(write_rows, (store, keys, 7, str(go))) for keys in (a, b)]
        go.touch()  # both processes open the new file and write from here on
        assert [j.get(timeout=120) for j in jobs] == [1200, 1200]  # neither raised (locked)
    with LabelStore(store) as st:
        frame = st.frame()
    assert frame.height == 1800 and frame["key"].n_unique() == 1800  # none lost, none twice
    assert frame.filter(frame["key"] == "k-700")["score"].item() == pytest.approx(0.7)
    assert frame["raw"].n_unique() == 2  # both processes wrote rows


@pytest.mark.slow
def test_killed_worker_is_rescheduled_and_nothing_is_redone(tmp_path: Path) -> None:
    store, log, marker = tmp_path / "labels.sqlite", tmp_path / "computed.log", tmp_path / "kill"
    keys = [f"k-{i}" for i in range(40)]
    shards = shards_of(keys, 10)
    computed = fan_out(
        logged_shard, shards, TWO, name="kill", store=str(store), log=str(log),
        kill_marker=str(marker), batch=4,
    )  # fmt: skip
    assert marker.exists()  # one worker did die mid-shard
    # the rescheduled shard computed only what its dead try had not committed (4 keys)
    assert sum(computed) == len(keys) - 4
    assert Counter(log.read_text().split()) == Counter(keys)  # each key computed exactly once
    with LabelStore(store) as st:
        assert sorted(st.frame()["key"].to_list()) == sorted(keys)


@pytest.mark.slow
def test_dask_results_equal_the_serial_ones() -> None:
    shards = shards_of(list(range(50)), 6)
    assert fan_out(_square_sum, shards, TWO, offset=1) == fan_out(
        _square_sum, shards, None, offset=1
    )


@pytest.mark.slow
def test_annotate_judging_on_two_workers_equals_the_serial_labels(tmp_path: Path) -> None:
    """The real judge and HF backend (the tiny random Llama): 2 Dask workers, 4 shards, give
    bit-identical labels and the same ledger counts as one process (shards = whole batches)."""
    import polars as pl

    from trustir.annotate.params import AnnotateParams
    from trustir.annotate.relevance_labels import judge_with_params
    from trustir.llm.config import LLMParams
    from trustir.llm.testing import build_tiny_model

    rows = [
        (f"q{q}", f"d{q}-{d}", f"what about topic {q}?", f"A passage about {q}. Part {d}.")
        for q in range(7)
        for d in range(3)
    ]  # 21 pairs: shards of 6 (flush_every 3), the last one short
    pairs = pl.DataFrame(rows, schema=["query_id", "doc_id", "query", "doc"], orient="row")
    llm = LLMParams(backend="hf", model=str(build_tiny_model(tmp_path / "tiny")), device="cpu")
    out = {}
    for name, fanout in {"serial": None, "dask": FanoutParams(workers=2, shard_size=5)}.items():
        annotate = AnnotateParams(
            judge="relevance", store=str(tmp_path / f"{name}.sqlite"), flush_every=3
        )
        labels, ledger = judge_with_params(pairs, annotate, llm, "t", False, fanout)
        out[name] = (labels.drop("created_at", "latency_ms"), ledger.to_metrics())
    (serial, serial_run), (dask, dask_run) = out["serial"], out["dask"]
    assert serial.height == 21 and serial["score"].null_count() == 0
    assert dask.equals(serial)  # same rows, same order, same floats
    assert {k: v for k, v in dask_run.items() if k != "seconds"} == {
        k: v for k, v in serial_run.items() if k != "seconds"
    }
    assert serial_run["llm_calls"] > 0


@pytest.mark.slow
def test_p1_judging_on_two_workers_equals_the_serial_tables(tmp_path: Path) -> None:
    """P1's authority judging (every bench x text mode x judge a shard), tiny random Llama:
    the labels, scores, preferences and costs of 2 Dask workers are the serial ones."""
    from trustir.authority.judging import judge_all
    from trustir.authority.params import AuthorityParams
    from trustir.authority.truth import bench_context, build_samples
    from trustir.llm.config import LLMParams
    from trustir.llm.testing import build_tiny_model
    from trustir.sources.params import DataParams

    params = AuthorityParams.model_validate(
        {"judges": ["point/point_score", "pair/preference", "list/permutation"],
         "sample": {"items": 5, "pairs": 2}}
    )  # fmt: skip
    samples, _ = build_samples(params, bench_context(params, DataParams(scale=0.15), tmp_path))
    llm = LLMParams(backend="hf", model=str(build_tiny_model(tmp_path / "tiny")), device="cpu")
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(TWO.threads_per_worker)  # the workers' count: float sums in one order
    try:
        serial = judge_all(samples, params, llm, str(tmp_path / "a.sqlite"), show_progress=False)
    finally:
        torch.set_num_threads(threads)
    dask = judge_all(samples, params, llm, str(tmp_path / "b.sqlite"), False, TWO)
    assert serial.costs.height == 2 * 2 * 3  # 2 world benches x (notext, text) x 3 judges
    for name in ("scores", "prefs", "costs"):
        assert getattr(dask, name).equals(getattr(serial, name)), name
    drop = ["created_at", "latency_ms"]
    assert dask.labels.drop(drop).equals(serial.labels.drop(drop))
    assert dask.run["llm_calls"] == serial.run["llm_calls"] > 0
