"""Every entry of every registry keeps its contract (DESIGN.md "Adding a method").

The registries are found in the source (every module-level ``X = Registry(...)`` under
src/trustir) and their entries come from ``registry.names()``, so a new registry or a new entry is
covered without editing this file; a registry without a contract here fails
``test_every_registry_has_a_contract``. Each check runs one entry on tiny inputs. The per-area
tests (hand-worked values, equivalences) stay where they are; this file checks the shared
contract only.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from trustir.registry import Registry

SRC = Path(__file__).resolve().parents[2] / "src"
SHARED = SRC.parents[1] / "shared" / "data"


def find_registries() -> dict[str, Registry]:
    """``{kind: registry}`` of every module-level ``NAME = Registry(...)`` in src/trustir."""
    found: dict[str, Registry] = {}
    for path in sorted((SRC / "trustir").rglob("*.py")):
        if path.name == "registry.py" and path.parent.name == "trustir":
            continue
        tree = ast.parse(path.read_text())
        for node in tree.body:
            value = getattr(node, "value", None)
            target = getattr(node, "target", None) or (getattr(node, "targets", None) or [None])[0]
            if (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Name)
                and value.func.id == "Registry"
                and isinstance(target, ast.Name)
            ):
                parts = path.relative_to(SRC).with_suffix("").parts
                module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
                reg = getattr(importlib.import_module(module), target.id)
                assert isinstance(reg, Registry), f"{module}.{target.id}"
                assert reg.kind not in found, f"two registries of kind {reg.kind!r}"
                found[reg.kind] = reg
    return found


REGISTRIES = find_registries()
CASES = [(kind, name) for kind, reg in sorted(REGISTRIES.items()) for name in reg.names()]


# -- retrieval losses: finite scalar, gradients, InfoNCE on one positive -------------------------
def loss_batch(one_positive: bool, seed: int = 0) -> tuple[Any, Any, Any]:
    import torch

    g = torch.Generator().manual_seed(seed)
    b, n = 4, 7
    scores = torch.randn(b, n, generator=g, dtype=torch.float64) * 2  # [b, n]
    pos = torch.zeros(b, n, dtype=torch.bool)
    pos[torch.arange(b), torch.arange(b)] = True  # the first positive of row i is column i
    if not one_positive:
        pos[torch.arange(b), torch.arange(b) + 1] = True
    neg = ~pos
    neg[:, -1] = False  # a column in neither mask
    return scores, pos, neg


def check_loss(reg: Registry, name: str) -> None:
    import torch

    from trustir.retrieval.losses.infonce import infonce

    loss = reg.get(name)
    scores, pos, neg = loss_batch(one_positive=loss.positives != "all")
    leaf = scores.clone().requires_grad_(True)
    value = loss(leaf, pos, neg)
    assert value.shape == () and torch.isfinite(value), name
    value.backward()
    assert torch.isfinite(leaf.grad).all() and leaf.grad.abs().sum() > 0, name
    assert (leaf.grad[:, -1] == 0).all(), f"{name}: a score in neither mask has a gradient"
    one = loss_batch(one_positive=True, seed=1)
    if loss.reduces_to_infonce:
        assert loss(*one).item() == pytest.approx(infonce(*one).item(), abs=1e-9), name


# -- merge methods: merging identical models (a state dict) returns the model --------------------
def check_merge(reg: Registry, name: str) -> None:
    import torch

    from trustir.merging.spec import MergeSpec
    from trustir.merging.state import merge_state_dicts

    method = reg.get(name)
    g = torch.Generator().manual_seed(0)
    model = {"w": torch.randn(3, 4, generator=g), "pos_ids": torch.arange(4)}
    base = {"w": torch.randn(3, 4, generator=g), "pos_ids": torch.arange(4)}
    n = method.n_models or 2
    options = {"density": 1.0} if "density" in method.defaults else {}
    spec = MergeSpec(name, weights=[1.0 / n] * n, options=options)
    out = merge_state_dicts(
        [{k: v.clone() for k, v in model.items()} for _ in range(n)], spec, base
    )
    assert sorted(out) == ["pos_ids", "w"] and torch.equal(out["pos_ids"], model["pos_ids"])
    assert out["w"].dtype == model["w"].dtype
    assert torch.allclose(out["w"], model["w"], atol=1e-5), name


# -- click models: relevance in [0, 1] for every shown pair; a clicked document beats a skipped one
def check_click_model(reg: Registry, name: str) -> None:
    from trustir.ranking.clickmodels.base import Sessions

    rng = np.random.default_rng(0)
    rows = []
    for s in range(60):
        q = f"q{s % 2}"
        docs = [f"{q}-good", f"{q}-bad", f"{q}-mid"]
        order = rng.permutation(3)
        for rank, i in enumerate(order, start=1):
            p_click = {0: 0.8, 1: 0.02, 2: 0.3}[int(i)] * (1.0 / rank) ** 0.5
            rows.append((f"s{s}", q, rank, docs[i], bool(rng.random() < p_click)))
    df = pl.DataFrame(rows, schema=["session_id", "query_id", "rank", "doc_id", "clicked"],
                      orient="row")  # fmt: skip
    model = reg.get(name)(prior=(1.0, 2.0), iterations=20).fit(Sessions.from_frame(df))
    rel = model.relevance()
    assert {"query_id", "doc_id", "relevance"} <= set(rel.columns)
    assert rel.height == 6 and rel["relevance"].is_between(0.0, 1.0).all(), name
    by = dict(zip(rel["doc_id"], rel["relevance"], strict=True))
    assert by["q0-good"] > by["q0-bad"] and by["q1-good"] > by["q1-bad"], (name, by)


# -- rankers: fit/score on a separable toy, scores per row, better than random -------------------
def ndcg10(scores: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    out, start = [], 0
    for size in groups:
        s, rel = scores[start : start + size], y[start : start + size]
        gains = (2.0 ** rel[np.argsort(-s, kind="stable")][:10] - 1) / np.log2(
            np.arange(2, min(size, 10) + 2)
        )
        ideal = (2.0 ** np.sort(rel)[::-1][:10] - 1) / np.log2(np.arange(2, min(size, 10) + 2))
        out.append(gains.sum() / ideal.sum())
        start += size
    return float(np.mean(out))


def check_ranker(reg: Registry, name: str) -> None:
    from trustir.ranking.params import LtrParams

    rng = np.random.default_rng(3)
    groups = np.full(12, 8)
    X = rng.normal(size=(int(groups.sum()), 4))
    y = np.clip(np.round(X[:, 0] * 1.5 + 1.5), 0, 3).astype(np.int64)  # grade from feature 0
    params = LtrParams.model_validate({"lightgbm": {"min_data_in_leaf": 2}, "mlp": {"epochs": 30}})
    scores = reg.get(name)(params).fit(X, y, groups).score(X)
    assert scores.shape == (X.shape[0],) and np.isfinite(scores).all(), name
    rand = np.mean([ndcg10(rng.random(len(y)), y, groups) for _ in range(20)])
    assert ndcg10(scores, y, groups) > rand + 0.1, name


# -- listwise losses: one finite loss per query, padding takes no part ---------------------------
def check_listwise_loss(reg: Registry, name: str) -> None:
    import torch

    scores = torch.tensor([[1.0, 0.2, -0.5, 3.0], [0.1, 0.4, 0.0, 0.0]], requires_grad=True)
    labels = torch.tensor([[2.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    mask = torch.tensor([[True, True, True, False], [True, True, False, False]])
    out = reg.get(name)(scores, labels, mask)
    assert out.shape == (2,) and torch.isfinite(out).all(), name
    out.sum().backward()
    assert (scores.grad[~mask] == 0).all() and scores.grad[mask].abs().sum() > 0, name


# -- supervisions: phases whose rows, groups and weights agree; budgets sum to 1 -----------------
def check_supervision(reg: Registry, name: str) -> None:
    from trustir.ranking.supervision import LabelledSet

    def labelled(kind: str, grades: list[list[int]]) -> LabelledSet:
        y = np.concatenate([np.asarray(g) for g in grades])
        X = np.arange(len(y) * 2, dtype=np.float64).reshape(len(y), 2)
        ids = [f"q{i}" for i in range(len(grades))]
        return LabelledSet(kind, ids, X, y, np.asarray([len(g) for g in grades]))

    click, llm = labelled("click", [[1, 0], [0, 2, 1]]), labelled("llm", [[3, 0, 0], [1, 1]])
    phases = reg.get(name)(click, llm, lambda q: 0.25, 0.4)
    assert phases and sum(p.budget for p in phases) == pytest.approx(1.0), name
    for p in phases:
        assert p.X.shape[0] == len(p.y) == len(p.weights) == int(p.groups.sum()), name
        assert np.isfinite(p.weights).all() and (p.weights >= 0).all(), name


# -- label regimes: positives of train queries only, grade >= min_rel, best first ----------------
def check_regime(reg: Registry, name: str) -> None:
    queries = pl.DataFrame({"query_id": ["a", "b", "t"], "text": ["x"] * 3,
                            "split": ["train", "train", "test"]})  # fmt: skip
    rows = [("a", "d1", 2, "human"), ("b", "d2", 3, "human"), ("t", "d3", 3, "human"),
            ("a", "d4", 3, "llm:m"), ("a", "d1", 2, "llm:m"), ("b", "d5", 1, "llm:m"),
            ("b", "d6", 2, "llm:m"), ("t", "d3", 3, "llm:m")]  # fmt: skip
    qrels = pl.DataFrame(rows, schema=["query_id", "doc_id", "relevance", "source"], orient="row")
    phases = reg.get(name)(qrels, queries, min_rel=2, seed=0)
    assert phases and sum(p.share for p in phases) == pytest.approx(1.0), name
    for phase in phases:
        assert phase.positives and set(phase.positives) <= {"a", "b"}, name
        for qid, docs in phase.positives.items():
            grades = [g for _, g in docs]
            assert min(grades) >= 2 and grades == sorted(grades, reverse=True), (name, qid)


# -- batch schedules: every item once per epoch, each batch from one set, at most batch_size -----
def check_schedule(reg: Registry, name: str) -> None:
    import inspect

    fn = reg.get(name)
    sets = {"a": [f"a{i}" for i in range(5)], "b": [f"b{i}" for i in range(3)], "c": ["c0"]}
    extra = {"first": ["a"]} if "first" in inspect.signature(fn).parameters else {}
    batches = fn(sets, 2, epochs=2, seed=0, **extra)
    seen = [item for b in batches for item in b.items]
    assert sorted(seen) == sorted([i for items in sets.values() for i in items] * 2), name
    assert all(len(b.items) <= 2 and all(i in sets[b.task] for i in b.items) for b in batches)


# -- significance tests: p in [0, 1]; 1 for identical systems; small for a clear difference -----
def check_significance_test(reg: Registry, name: str) -> None:
    test = reg.get(name)
    a = np.linspace(0.1, 0.6, 20)
    assert test(a, a.copy()) == pytest.approx(1.0), name
    p = test(a, a + 0.2 + np.sin(np.arange(20)) * 0.01, seed=0)
    assert 0.0 <= p < 0.01, (name, p)


# -- relevance judges: own a template and a parser; a canned reply of each option parses ---------
def check_judge(reg: Registry, name: str) -> None:
    judge = reg.get(name)()
    if judge.output == "score":  # scores only (query likelihood): the query is the continuation
        prompt = judge.prompt("who wrote the book", "The book was written by Ann.")
        text = prompt if isinstance(prompt, str) else " ".join(m["content"] for m in prompt)
        assert "written by Ann" in text and "who wrote" not in text, name
        assert judge.continuation("who wrote the book").strip() == "who wrote the book", name
        assert judge.from_token_logprobs([-1.0, -3.0]).score == -2.0, name
        assert judge.from_token_logprobs([]).status == "error", name
        assert len(judge.prompt_hash) >= 16 and judge.prompt_hash == type(judge)().prompt_hash
        return
    messages = judge.prompt("who wrote the book", "The book was written by Ann.")
    assert messages and all(set(m) == {"role", "content"} for m in messages), name
    text = " ".join(m["content"] for m in messages)
    assert "who wrote the book" in text and "written by Ann" in text, name
    assert len(judge.options) == len(judge.values) >= 2 and len(set(judge.values)) > 1, name
    for option, value in zip(judge.options, judge.values, strict=True):
        verdict = judge.parse(option)
        assert (verdict.label, verdict.status) == (value, "ok"), (name, option)
        logprobs = [0.0 if o == option else -20.0 for o in judge.options]
        assert judge.from_logprobs(logprobs).label == value, (name, option)
    assert judge.parse("I cannot tell.").label is None, name
    assert len(judge.prompt_hash) >= 16 and judge.prompt_hash == type(judge)().prompt_hash


# -- authority judges: prompts name the items; no answer means no score --------------------------
def check_authority_judge(reg: Registry, name: str) -> None:
    from trustir.annotate.authority import JudgeTask, make_authority_judge
    from trustir.annotate.authority_prompts import Item

    items = {f"i{k}": Item(f"i{k}", f"site{k}.org", f"page {k}") for k in range(4)}
    task = JudgeTask("domain", items, (("i0|i1", "i0", "i1"),), (("L1", ("i0", "i2", "i3")),))
    judge = make_authority_judge(name, levels=5)
    calls = judge.calls(task)
    assert calls and len({c.unit for c in calls}) == len(calls), name
    for call in calls:
        text = " ".join(m["content"] for m in call.prompt)
        assert any(it.name in text for it in items.values()), (name, call.unit)
    judged = judge.reduce(task, {})  # every call failed: no score is made up
    assert set(judged.item_scores) == set(judge.items_asked(task)), name
    assert all(v is None for v in judged.item_scores.values()), name


# -- authority benches: a population with unique ids and finite authority values -----------------
def check_bench(reg: Registry, name: str) -> None:
    from trustir.authority.sources import BenchContext
    from trustir.sources.world import Sizes, build_world

    if not name.startswith("world-") and not SHARED.is_dir():
        pytest.skip(f"bench {name!r} reads the lab's shared data folder {SHARED}, absent here")
    world = build_world(Sizes.at(0.05), seed=3)
    pop = reg.get(name)(BenchContext(world=lambda: world, shared=SHARED, text_chars=60))
    items = pop.items
    assert pop.kind in ("domain", "entity") and items.height >= 4, name
    assert items["item_id"].n_unique() == items.height, name
    assert items["authority"].is_finite().all() and items["name"].str.len_chars().min() > 0


# -- data sources: the contract tables, ids that agree -------------------------------------------
def tiny_beir_folder(root: Path) -> Path:
    from trustir.io.beir import write_beir
    from trustir.sources.world import generate_world

    t = generate_world(0.05, seed=5)
    test = t["qrels"].filter(pl.col("source") == "world")
    return write_beir(root / "tiny", t["corpus"], t["queries"], test)


def source_world(tmp: Path, mp: pytest.MonkeyPatch) -> dict[str, Any]:
    return {"source": "world", "scale": 0.05}


def source_local(tmp: Path, mp: pytest.MonkeyPatch) -> dict[str, Any]:
    return {"source": "local", "path": str(tiny_beir_folder(tmp)), "name": "tiny"}


def source_beir(tmp: Path, mp: pytest.MonkeyPatch) -> dict[str, Any]:
    # the verified archive is already in the cache: no download is attempted
    folder = tiny_beir_folder(tmp / "src")
    (tmp / "cache/beir").mkdir(parents=True)
    archive = tmp / "cache/beir/tiny.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, Path("tiny") / f.relative_to(folder))
    mp.setenv("TRUSTIR_CACHE", str(tmp / "cache"))
    mp.setenv("TRUSTIR_BEIR_CHECKSUM", "md5:" + hashlib.md5(archive.read_bytes()).hexdigest())  # noqa: S324  BEIR publishes md5 checksums
    mp.setenv("TRUSTIR_BEIR_URL", "http://127.0.0.1:9/unreachable")
    return {"source": "beir", "name": "tiny"}


SOURCE_INPUTS: dict[str, Callable[[Path, pytest.MonkeyPatch], dict[str, Any]]] = {
    "world": source_world,
    "local": source_local,
    "beir": source_beir,
}


def check_source(reg: Registry, name: str, tmp: Path, mp: pytest.MonkeyPatch) -> None:
    from trustir.schema import CORPUS, QRELS, QUERIES
    from trustir.sources.params import DataParams

    assert name in SOURCE_INPUTS, f"add a tiny input for source {name!r} to SOURCE_INPUTS"
    params = DataParams.model_validate(SOURCE_INPUTS[name](tmp, mp))
    tables = reg.get(name)(params, tmp)
    for table, schema in (("corpus", CORPUS), ("queries", QUERIES), ("qrels", QRELS)):
        assert table in tables and tables[table].height > 0, (name, table)
        cols = tables[table].schema
        assert all(cols.get(c) == t for c, t in schema.items() if c in cols), (name, table)
    q, c, r = tables["queries"], tables["corpus"], tables["qrels"]
    assert set(r["query_id"]) <= set(q["query_id"]) and set(r["doc_id"]) <= set(c["doc_id"])
    assert set(q["split"]) <= {"train", "test"} and "test" in set(q["split"]), name


# -- LLM backends: built from LLMParams, option log-probs for a prompt ---------------------------
def backend_hf(tmp: Path, model: str) -> dict[str, Any]:
    return {"backend": "hf", "model": model, "device": "cpu"}


def backend_openai(tmp: Path, model: str) -> dict[str, Any]:
    return {"backend": "openai", "model": model, "tokenizer": model, "timeout_s": 30}


BACKEND_INPUTS = {"hf": backend_hf, "openai": backend_openai}


def check_backend(reg: Registry, name: str, tmp: Path, mp: pytest.MonkeyPatch) -> None:
    from trustir.llm.backends.hf import HFBackend
    from trustir.llm.config import LLMParams
    from trustir.llm.server import serving
    from trustir.llm.testing import build_tiny_model

    assert name in BACKEND_INPUTS, f"add a tiny input for backend {name!r} to BACKEND_INPUTS"
    model = str(build_tiny_model(tmp / "tiny-llm"))
    mp.setenv("NO_PROXY", "127.0.0.1,localhost")
    mp.setenv("no_proxy", "127.0.0.1,localhost")
    with serving(HFBackend(model=model, device="cpu")) as url:  # for endpoint backends
        raw = {"base_url": url, **BACKEND_INPUTS[name](tmp, model)}
        backend = reg.get(name).from_params(LLMParams.model_validate(raw))
        try:
            lp = np.asarray(backend.score(["Is the sky blue?"], ["Yes", "No"]))
            assert lp.shape == (1, 2) and np.isfinite(lp).all() and (lp <= 0).all(), (name, lp)
            assert backend.count_tokens("Is the sky blue?") > 0, name
        finally:
            backend.close()


# -- confidence methods (P4): in [0, 1], and higher on a sure item than on an unsure one ---------
def _calibration_item(sure: bool):
    from trustir.calibration.items import Item, Sample

    if sure:  # every sample the same answer, likely tokens, a confident verbalization, P(True) high
        texts, lp, verbal, yes, clusters = ["Ada"] * 4, -0.1, "Ada | 0.9", -0.1, [0, 0, 0, 0]
    else:  # four different answers, unlikely tokens, a doubtful verbalization, P(True) low
        texts, lp, verbal, yes, clusters = (
            ["Ada", "Bo", "Cy", "Di"],
            -2.0,
            "Ada | 0.2",
            -3.0,
            [0, 1, 2, 3],
        )
    samples = [Sample(t, (lp, lp)) for t in texts]
    return Item(
        qid="q",
        greedy=Sample("Ada", (lp, lp)),
        samples=samples,
        verbalized=verbal,
        verbalized_samples=[f"{t} | {verbal.split('|')[1].strip()}" for t in texts],
        topk=f"1. {verbal}",
        logp_yes=yes,
        logp_no=-1.0,
        clusters=clusters,
        greedy_cluster=0,
    )


def check_confidence_method(reg: Registry, name: str) -> None:
    from trustir.calibration.params import CalibrationParams

    params = CalibrationParams()
    method = reg.get(name)
    (answer_s, sure), (answer_u, unsure) = (
        method.judge(_calibration_item(True), params),
        method.judge(_calibration_item(False), params),
    )
    assert answer_s == answer_u == "Ada", name
    assert 0.0 <= unsure <= 1.0 and 0.0 <= sure <= 1.0, (name, sure, unsure)
    assert sure > unsure, (name, sure, unsure)  # higher means more confident


# -- prag generators (P9): a kind, a prompt holding the passage, a stable template hash, and a
#    parser that reads its own form and raises Unparseable on a reply without it ---------------
def check_prag_generator(reg: Registry, name: str) -> None:
    from trustir.prag.generators import Unparseable

    gen = reg.get(name)
    assert gen.kind in ("rewrite", "qa"), name
    prompt = gen.prompt("Ines Lindqvist", "Ines Lindqvist won the Marlow Cup.", 2, 0)
    assert "Marlow Cup" in prompt and len(gen.template_hash) == 64, name
    good = {"rewrite": "Ines Lindqvist is a winner of the Marlow Cup.",
            "qa": "Q: What did Ines win?\nA: the Marlow Cup"}[gen.kind]  # fmt: skip
    assert gen.parse(good, 2), name
    try:
        gen.parse("", 2)
    except Unparseable:
        pass
    else:
        raise AssertionError(f"{name}: an empty reply must be unparseable")


# -- P6 AGREE local losses: finite, zero-or-more, gradients on s only; a perfect match scores least
def check_agree_local_loss(reg: Registry, name: str) -> None:
    import torch

    from trustir.agree.local import LocalOptions

    loss = reg.get(name)
    opts = LocalOptions(top_k_percent=25.0)
    g = torch.Generator().manual_seed(0)
    target = torch.softmax(torch.randn(3, 8, generator=g) * 3, dim=1)  # (B, P), rows sum to 1
    s = torch.randn(3, 8, generator=g, requires_grad=True)
    value = loss(s, target, opts)
    assert value.shape == () and torch.isfinite(value) and value.item() >= -1e-6, name
    value.backward()
    assert torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0, name
    matched = loss(target / target.amax(dim=1, keepdim=True) * 10, target, opts)
    assert matched.item() <= value.item() + 1e-6, name


# -- P6 AGREE target sources: (n, P) non-negative rows summing to 1, deterministic -------------
def check_agree_target(reg: Registry, name: str, tmp: Path, mp: pytest.MonkeyPatch) -> None:
    from trustir.agree.pages import read_collection
    from trustir.agree.params import AgreeParams
    from trustir.agree.pipeline import make_collection
    from trustir.agree.targets import Pair, TargetContext
    from trustir.vision.images import ImageStore
    from trustir.vision.params import TinyVLMParams

    tiny = TinyVLMParams(hidden_size=32, heads=2, kv_heads=1, vision_dim=32)
    p = AgreeParams(image_size=56, blocks_per_side=2, pages=4, entities=4, test_fraction=0.5,
                    tiny=tiny)  # fmt: skip
    make_collection(0.1, 7, p, tmp, tmp / "vd")
    col = read_collection(tmp / "vd")
    store = ImageStore(tmp / "vd" / "pages",
                       col.pages.select(pl.col("page_id").alias("image_id"), "sha256"))  # fmt: skip
    texts = dict(col.queries.select("query_id", "text").iter_rows())
    pairs = [Pair(q, texts[q], d) for q, d in col.qrels.select("query_id", "doc_id").head(3).rows()]
    ctx = TargetContext(p, store, col.regions, [*texts.values(), *col.pages["text"]])
    source = reg.get(name)
    out = source.compute(ctx, pairs)
    assert out.shape == (3, (56 // 28) ** 2) and (out >= 0).all(), name
    assert np.allclose(out.sum(axis=1), 1.0, atol=1e-5), name
    assert np.array_equal(out, source.compute(ctx, pairs)), name
    assert source.fingerprint(ctx) == source.fingerprint(ctx) and source.description, name


CONTRACTS: dict[str, Callable[..., None]] = {
    "loss": check_loss,
    "merge method": check_merge,
    "click model": check_click_model,
    "ranker": check_ranker,
    "listwise loss": check_listwise_loss,
    "supervision": check_supervision,
    "label regime": check_regime,
    "schedule": check_schedule,
    "significance test": check_significance_test,
    "judge": check_judge,
    "authority judge": check_authority_judge,
    "authority bench": check_bench,
    "source": check_source,
    "llm backend": check_backend,
    "confidence method": check_confidence_method,
    "prag generator": check_prag_generator,
    "agree local loss": check_agree_local_loss,
    "agree target": check_agree_target,
}
NEEDS_TMP = {"source", "llm backend", "agree target"}


def test_every_registry_has_a_contract() -> None:
    assert len(REGISTRIES) >= 14
    assert sorted(REGISTRIES) == sorted(CONTRACTS)
    assert all(REGISTRIES[k].names() for k in REGISTRIES), "a registry without entries"


@pytest.mark.parametrize(("kind", "name"), CASES, ids=[f"{k}:{n}" for k, n in CASES])
def test_entry_keeps_its_contract(
    kind: str, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = CONTRACTS[kind]
    if kind in NEEDS_TMP:
        check(REGISTRIES[kind], name, tmp_path, monkeypatch)
    else:
        check(REGISTRIES[kind], name)


def test_unknown_names_list_the_known_ones() -> None:
    for kind, reg in REGISTRIES.items():
        first = re.escape(reg.names()[0])
        with pytest.raises(KeyError, match=rf"unknown {kind} 'nope'; known.*: {first}, "):
            reg.get("nope")
