"""P9 PRAG: metrics, parsers, noise draws, adapter maths, the adapter store and the trainers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pytest
import torch

from trustir.prag.analysis import cosine_pairs, delta_cosine, delta_inner
from trustir.prag.data import n_replaced
from trustir.prag.generators import GENERATORS, Unparseable
from trustir.prag.metrics import score_answers, token_f1
from trustir.prag.params import LoraParams
from trustir.prag.store import AdapterStore, CorruptAdapter, adapter_key

SRC = Path(__file__).resolve().parents[2] / "src"


# -- metrics and parsers ---------------------------------------------------------------------
def test_token_f1_hand_worked() -> None:
    # "the cello player" -> [cello, player]; gold [cello]: p = 1/2, r = 1 -> F1 = 2/3
    assert token_f1("the cello player", ["cello"]) == pytest.approx(2 / 3)
    assert token_f1("viola", ["cello", "viola"]) == 1.0
    assert token_f1("", ["cello"]) == 0.0


def test_score_answers_em_contains() -> None:
    q = pl.DataFrame({"qid": ["a"], "answers": [["Marlow Cup"]]})
    ans = pl.DataFrame({"qid": ["a", "a"], "answer": ["The Marlow Cup.", "won the Marlow Cup"]})
    s = score_answers(ans, q)
    assert s["em"].to_list() == [1.0, 0.0]
    assert s["contains"].to_list() == [1.0, 1.0]


def test_qa_parser_reads_pairs_and_rejects_the_rest() -> None:
    qa = GENERATORS.get("qa")
    reply = "Q: Where was Ines born?\nA: Galfield.\nQ: What did she win? A: the Marlow Cup"
    assert qa.parse(reply, 3) == [("Where was Ines born?", "Galfield"),
                                  ("What did she win?", "the Marlow Cup")]  # fmt: skip
    assert qa.parse(reply, 1) == [("Where was Ines born?", "Galfield")]
    for bad in ("1. What is it?\n2. Who is she?", "Q: <a question>? A: <its answer>"):
        with pytest.raises(Unparseable):
            qa.parse(bad, 3)
    with pytest.raises(Unparseable):
        GENERATORS.get("rewrite").parse("  ", 1)


def test_noise_share_rounds_half_up() -> None:
    assert [n_replaced(s, 2) for s in (0, 0.5, 1)] == [0, 1, 2]
    assert [n_replaced(s, 3) for s in (0.34, 0.5, 0.67)] == [1, 2, 2]


# -- adapter maths -------------------------------------------------------------------------------
def _state(seed: int, stems=("m.a.", "m.b.")) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    out = {}
    for s in stems:
        out[s + "lora_A.weight"] = torch.randn(2, 5, generator=g)  # [r, in]
        out[s + "lora_B.weight"] = torch.randn(4, 2, generator=g)  # [out, r]
    return out


def test_delta_inner_equals_explicit_frobenius() -> None:
    x, y = _state(0), _state(1)
    explicit = sum(
        float(((x[s + "lora_B.weight"] @ x[s + "lora_A.weight"])
               * (y[s + "lora_B.weight"] @ y[s + "lora_A.weight"])).sum())
        for s in ("m.a.", "m.b.")
    )  # fmt: skip
    assert delta_inner(x, y) == pytest.approx(explicit, rel=1e-6)  # explicit is float32
    assert delta_cosine(x, x) == pytest.approx(1.0)
    neg = {k: (-v if "lora_B" in k else v) for k, v in x.items()}
    assert delta_cosine(x, neg) == pytest.approx(-1.0)


def test_delta_gram_equals_pairwise_inner_products() -> None:
    from trustir.prag.analysis import delta_gram

    states = [_state(i) for i in range(4)]
    gram = delta_gram(states)  # [4, 4]
    for i in range(4):
        for j in range(4):
            assert float(gram[i, j]) == pytest.approx(delta_inner(states[i], states[j]), rel=1e-9)


def test_cosine_pairs_label_same_entity() -> None:
    states = {"d1": _state(0), "d2": _state(0), "d3": _state(2)}
    pairs = cosine_pairs(states, {"d1": "e1", "d2": "e1", "d3": "e2"})
    same = pairs.filter(pl.col("same_entity"))
    assert same.rows() == [("d1", "d2", True, pytest.approx(1.0))]
    assert pairs.height == 3


# -- adapter store ---------------------------------------------------------------------------
def test_store_round_trip_idempotent_and_checked(tmp_path: Path) -> None:
    st = AdapterStore(tmp_path)
    key = adapter_key("h", ["k2", "k1"], {"r": 2}, "m@1")
    assert key == adapter_key("h", ["k1", "k2"], {"r": 2}, "m@1")  # augmentation keys: a set
    assert key != adapter_key("h", ["k1", "k2"], {"r": 4}, "m@1")
    assert key != adapter_key("h", ["k1", "k2"], {"r": 2}, "m@2")
    assert st.missing([key]) == [key]
    st.put(key, _state(0), {"doc_id": "d1"})
    st.put(key, _state(0), {"doc_id": "d1"})  # the same key twice: same file, no error
    got, meta = st.get(key)
    assert meta == {"doc_id": "d1"} and torch.equal(got["m.a.lora_A.weight"],
                                                    _state(0)["m.a.lora_A.weight"])  # fmt: skip
    assert st.missing([key]) == []
    # a file under another key's name (or bit rot) is never returned as good
    other = adapter_key("h2", [], {}, "m@1")
    st.path(other).parent.mkdir(parents=True, exist_ok=True)
    st.path(other).write_bytes(st.path(key).read_bytes())
    with pytest.raises(CorruptAdapter):
        st.get(other)
    st.path(other).write_bytes(st.path(key).read_bytes()[:100])  # truncated
    with pytest.raises(CorruptAdapter):
        st.get(other)


WRITER = textwrap.dedent(
    """
    import sys, torch
    from trustir.prag.store import AdapterStore
    st = AdapterStore(sys.argv[1])
    big = {f"m{i}.lora_A.weight": torch.full((64, 4096), float(i)) for i in range(8)}
    for n in range(int(sys.argv[2])):
        key = f"{n:064x}"
        st.put(key, big, {"n": n})
        print(key, flush=True)
    """
)


def _writer(root: Path, n: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(root), str(n)], stdout=subprocess.PIPE, text=True,
        env=env,
    )  # fmt: skip


def test_sigkill_mid_write_loses_no_finished_adapter(tmp_path: Path) -> None:
    proc = _writer(tmp_path, 10_000)  # 8 MiB per adapter: a kill lands inside some write
    done = []
    assert proc.stdout is not None
    while len(done) < 3:
        done.append(proc.stdout.readline().strip())
    time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done += [line.strip() for line in proc.stdout.read().splitlines() if line.strip()]
    st = AdapterStore(tmp_path)
    for key in done:  # every adapter reported finished is there and sound
        tensors, meta = st.get(key)
        assert meta["n"] == int(key, 16) and float(tensors["m7.lora_A.weight"][0, 0]) == 7.0
    for path in tmp_path.rglob("*.safetensors"):  # anything under a final name is complete
        st.get(path.stem)
    names = {p.name for p in tmp_path.rglob("*") if p.is_file()}
    assert all(n.endswith(".safetensors") or n.startswith(".") for n in names)  # temp: dot-named


def test_two_writer_processes_at_once(tmp_path: Path) -> None:
    procs = [_writer(tmp_path, 12) for _ in range(2)]
    for p in procs:
        p.communicate()
        assert p.returncode == 0
    st = AdapterStore(tmp_path)
    keys = [f"{n:064x}" for n in range(12)]
    assert st.missing(keys) == []
    assert all(st.get(k)[1]["n"] == n for n, k in enumerate(keys))
    assert not [p for p in tmp_path.rglob("*.tmp")]


# -- trainers on a tiny random Llama (SmolLM2's tokenizer) -----------------------------------
@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory):
    from trustir.llm.config import LLMParams
    from trustir.llm.testing import build_tiny_model
    from trustir.prag.model import BaseModel

    path = build_tiny_model(tmp_path_factory.mktemp("tiny-llama"), init_range=0.05)
    return BaseModel(LLMParams(model=str(path), device="cpu"))


def _docs(n: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    docs = pl.DataFrame({
        "doc_id": [f"d{i}" for i in range(n)], "title": [f"Page {i}" for i in range(n)],
        "text": [f"Person {i} was born in {1900 + i} in Town{i}." for i in range(n)],
        "entity": [f"e{i // 2}" for i in range(n)],
        "content_hash": [f"h{i}" for i in range(n)],
    })  # fmt: skip
    rows = []
    for i in range(n):
        rows.append((f"d{i}", "rewrite", 0, f"r{i}", "ok", f"Born {1900 + i}, person {i}.",
                     None, None, ""))  # fmt: skip
        if i % 3:  # every third document's QA reply was unparseable: fewer examples
            rows.append((f"d{i}", "qa", 0, f"q{i}", "ok", None, f"When was person {i} born?",
                         str(1900 + i), ""))  # fmt: skip
        else:
            rows.append((f"d{i}", "qa", 0, f"q{i}", "unparseable", None, None, None, "?"))
    from trustir.prag.augment import AUGMENT

    return docs, pl.DataFrame(rows, schema=AUGMENT, orient="row")


def test_batched_trainer_equals_plain_loop(tiny_base) -> None:
    from trustir.prag.lora import train_batched, train_plain
    from trustir.prag.train import doc_keys, training_jobs

    lp = LoraParams(r=2, alpha=32, lr=3e-3, epochs=2, max_length=48, batch_docs=3)
    docs, aug = _docs(5)
    keys = doc_keys(docs, aug, lp, tiny_base.model_id)
    jobs = [(k, ex) for _, k, ex in training_jobs(docs, aug, keys, tiny_base, lp)]
    plain = train_plain(tiny_base.model, lp, jobs)
    batched = train_batched(tiny_base.model, lp, jobs, tiny_base.tokenizer.pad_token_id)
    for p, b in zip(plain, batched, strict=True):
        assert set(p.tensors) == set(b.tensors)
        assert p.loss == pytest.approx(b.loss, rel=1e-4)
        moved = max(float(t.abs().max()) for n, t in p.tensors.items() if "lora_B" in n)
        assert moved > 1e-4  # training moved B off its zero start
        for n in p.tensors:
            torch.testing.assert_close(b.tensors[n], p.tensors[n], atol=1e-5, rtol=1e-3)
    # different documents end in different adapters
    assert not torch.allclose(*(t.tensors[next(iter(t.tensors))] for t in plain[:2]))


def test_token_loss_matches_float64_on_a_full_vocabulary() -> None:
    """The plain loop's loss over SmolLM2's 49,152-way vocabulary is float32-exact: torch's
    class-dim-1 layout (the old ``logits.transpose(1, 2)``) was 4e-5 off here, 1e-4 on
    SmolLM2, enough to move the LoRA gradients by ~1%."""
    from trustir.prag.lora import IGNORE, _token_loss

    g = torch.Generator().manual_seed(0)
    logits = torch.randn((2, 80, 49152), generator=g) * 5  # [N, T, V]
    labels = torch.randint(0, 49152, (2, 80), generator=g)
    labels[1, :30] = IGNORE  # a QA example: prompt positions carry no loss
    want = [
        torch.nn.functional.cross_entropy(logits[i, :-1].double(), labels[i, 1:],
                                          ignore_index=IGNORE)
        for i in range(2)
    ]  # fmt: skip
    got = _token_loss(logits, labels)
    for i in range(2):
        assert abs(float(got[i]) - float(want[i])) < 1e-5


TRAIN_AND_DIE = textwrap.dedent(
    """
    import sys, polars as pl
    from trustir.llm.config import LLMParams
    from trustir.prag.model import BaseModel
    from trustir.prag.params import LoraParams
    from trustir.prag.store import AdapterStore
    from trustir.prag.train import train_missing
    model, tables, store = sys.argv[1:4]
    base = BaseModel(LLMParams(model=model, device="cpu"))
    docs, aug = (pl.read_parquet(f"{tables}/{n}.parquet") for n in ("docs", "augment"))
    train_missing(docs, aug, LoraParams(max_length=32, batch_docs=2), base, AdapterStore(store))
    """
)


def test_sigkill_mid_training_keeps_every_finished_adapter(tiny_base, tmp_path: Path) -> None:
    """train_missing stores each adapter (batched: each group) as it finishes: a SIGKILL
    mid-run keeps those, and the re-run trains exactly the rest."""
    from trustir.prag.train import train_missing

    docs, aug = _docs(400)
    (tmp_path / "t").mkdir()
    docs.write_parquet(tmp_path / "t/docs.parquet")
    aug.write_parquet(tmp_path / "t/augment.parquet")
    store = tmp_path / "store"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen(
        [sys.executable, "-c", TRAIN_AND_DIE, tiny_base.llm.model, str(tmp_path / "t"),
         str(store)], env=env, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    while proc.poll() is None and len(list(store.rglob("*.safetensors"))) < 4:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL  # killed mid-run, not finished
    st = AdapterStore(store)
    kept = {p.stem: p.read_bytes() for p in store.rglob("*.safetensors")}
    assert 4 <= len(kept) < 400
    for key in kept:
        st.get(key)  # every file under a final name is complete and checked
    table, trained = train_missing(docs, aug, LoraParams(max_length=32, batch_docs=2),
                                   tiny_base, st)  # fmt: skip
    assert trained == 400 - len(kept)
    assert all(st.path(k).read_bytes() == b for k, b in kept.items())  # not retrained
    assert table.height == 400


def test_training_that_dies_mid_way_keeps_the_finished_adapters(
    tiny_base, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each adapter is stored as the trainer yields it, not after the last one."""
    from trustir.prag import train as prag_train

    real = prag_train.TRAINERS["batched"]

    def dies_after_three(*args, **kwargs):
        for n, item in enumerate(real(*args, **kwargs)):
            if n == 3:
                raise RuntimeError("killed")
            yield item

    monkeypatch.setitem(prag_train.TRAINERS, "batched", dies_after_three)
    docs, aug = _docs(8)
    lp = LoraParams(max_length=32, batch_docs=2)
    st = AdapterStore(tmp_path)
    with pytest.raises(RuntimeError, match="killed"):
        prag_train.train_missing(docs, aug, lp, tiny_base, st)
    assert len(list(tmp_path.rglob("*.safetensors"))) == 3
    monkeypatch.undo()
    _, trained = prag_train.train_missing(docs, aug, lp, tiny_base, st)
    assert trained == 5


def test_store_skip_and_only_new_documents_train(tiny_base, tmp_path: Path) -> None:
    from trustir.prag.train import train_missing

    lp = LoraParams(max_length=32)
    st = AdapterStore(tmp_path)
    docs, aug = _docs(4)
    first, trained = train_missing(docs.head(3), aug, lp, tiny_base, st)
    assert trained == 3 and first.height == 3
    again, trained = train_missing(docs.head(3), aug, lp, tiny_base, st)
    assert trained == 0 and again.equals(first)  # a forced re-run trains nothing, reads the same
    more, trained = train_missing(docs, aug, lp, tiny_base, st)
    assert trained == 1 and more.head(3).equals(first)


def test_documents_with_equal_content_share_one_adapter(tiny_base, tmp_path: Path) -> None:
    from trustir.prag.train import doc_states, train_missing

    docs, aug = _docs(3)
    twin = docs.filter(pl.col("doc_id") == "d1").with_columns(pl.lit("d1-copy").alias("doc_id"))
    twin_aug = aug.filter(pl.col("doc_id") == "d1").with_columns(pl.lit("d1-copy").alias("doc_id"))
    st = AdapterStore(tmp_path)
    table, trained = train_missing(pl.concat([docs, twin]), pl.concat([aug, twin_aug]),
                                   LoraParams(max_length=32), tiny_base, st)  # fmt: skip
    assert trained == 3 and table.height == 4  # the copy trains nothing of its own
    states = doc_states(st, table)
    assert set(states) == {"d0", "d1", "d2", "d1-copy"}
    assert all(torch.equal(states["d1"][n], states["d1-copy"][n]) for n in states["d1"])


def test_cat_merge_sums_the_adapters_deltas(tiny_base) -> None:
    """peft's add_weighted_adapter(cat, weights 1) == the base weights plus each delta."""
    from peft import get_peft_model, set_peft_model_state_dict

    from trustir.prag.lora import initial_state, peft_config, target_modules

    lp = LoraParams()
    model = tiny_base.model
    mods = target_modules(model, lp.target_modules)
    states = [initial_state(mods, lp.r, k, 0) for k in ("a", "b")]
    for i, s in enumerate(states):  # non-zero B so the deltas matter
        g = torch.Generator().manual_seed(i)
        for n in s:
            if "lora_B" in n:
                s[n] = torch.randn(s[n].shape, generator=g) * 0.05
    ids = torch.tensor([tiny_base.tokenizer.encode("Person 3 was born in")])
    with torch.no_grad():
        want_w = {n: m.weight.clone() for n, m in mods}
        for s in states:
            for n, _ in mods:
                b, a = (
                    s[f"base_model.model.{n}.lora_B.weight"],
                    s[f"base_model.model.{n}.lora_A.weight"],
                )
                want_w[n] += (lp.alpha / lp.r) * b @ a
        orig = {n: m.weight.clone() for n, m in mods}
        for n, m in mods:
            m.weight.copy_(want_w[n])
        want = model(input_ids=ids).logits
        for n, m in mods:
            m.weight.copy_(orig[n])
        pm = get_peft_model(model, peft_config(lp), "blank")
        for name, s in zip(("da", "db"), states, strict=True):
            pm.add_adapter(name, peft_config(lp))
            set_peft_model_state_dict(pm, s, adapter_name=name)
        pm.add_weighted_adapter(["da", "db"], [1.0, 1.0], "merged", combination_type="cat")
        pm.set_adapter("merged")
        got = pm(input_ids=ids).logits
        pm.unload()
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)


def test_answer_logprob_is_the_teacher_forced_mean_and_a_single_merge_is_the_adapter(
    tiny_base, tmp_path: Path
) -> None:
    from peft import get_peft_model, set_peft_model_state_dict

    from trustir.prag.infer import Injector
    from trustir.prag.lora import initial_state, peft_config, target_modules
    from trustir.prag.params import PragParams

    pp = PragParams()
    model, tok = tiny_base.model, tiny_base.tokenizer
    prompt, answer = "When was person 3 born?", "1903"
    ids = tiny_base.render(prompt)
    ans = tok.encode(answer, add_special_tokens=False)

    def by_hand(m) -> float:
        with torch.no_grad():
            logits = m(input_ids=torch.tensor([ids + ans])).logits[0]  # [T, V]
        logp = torch.log_softmax(logits.double(), -1)
        return float(sum(logp[len(ids) - 1 + i, t] for i, t in enumerate(ans)) / len(ans))

    state = initial_state(target_modules(model, pp.lora.target_modules), 2, "k", 0)
    g = torch.Generator().manual_seed(1)
    for n in state:
        if "lora_B" in n:
            state[n] = torch.randn(state[n].shape, generator=g) * 0.05
    store = AdapterStore(tmp_path)
    store.put("a" * 64, state, {})
    inj = Injector(tiny_base, pp, store)
    base_lp = inj.answer_logprob([(prompt, answer)], ())[0]
    lora_lp = inj.answer_logprob([(prompt, answer)], ("a" * 64,))[0]
    assert set(inj.pm.peft_config) == {"blank"}  # the merge is undone
    inj.pm.unload()
    assert base_lp == pytest.approx(by_hand(model), abs=1e-5)
    pm = get_peft_model(model, peft_config(pp.lora), "doc").eval()
    set_peft_model_state_dict(pm, state, adapter_name="doc")
    assert lora_lp == pytest.approx(by_hand(pm), abs=1e-5)  # cat of one adapter = the adapter
    assert abs(lora_lp - base_lp) > 1e-3
    pm.unload()


def test_logprob_gains_pair_the_rows_by_question() -> None:
    from trustir.prag.report import logprob_gains

    offset = {("vanilla", 0.0): 0.0, ("textual", 0.0): 2.0, ("parametric", 0.0): 0.5,
              ("combined", 0.0): 2.25, ("parametric", 1.0): 0.25}  # fmt: skip
    base = {"q1": -6.0, "q2": -5.0, "q3": -7.0}  # mean -6
    rows = [(q, m, n, b + o) for q, b in base.items() for (m, n), o in offset.items()]
    lp = pl.DataFrame(rows, schema=["qid", "mode", "noise", "logp"], orient="row")
    gains = logprob_gains(lp.sample(fraction=1.0, seed=1))  # paired by qid, not by row order
    assert [(g["a"], g["b"]) for g in gains] == [
        ("vanilla/0", "parametric/0"), ("parametric/1", "parametric/0"),
        ("textual/0", "combined/0"), ("vanilla/0", "textual/0"),
    ]  # fmt: skip
    off = {f"{m}/{n:g}": o for (m, n), o in offset.items()}
    for g in gains:
        assert g["n"] == 3 and g["mean_a"] == pytest.approx(-6.0 + off[g["a"]])
        assert g["delta"] == pytest.approx(off[g["b"]] - off[g["a"]])
        assert g["p"] < 1e-6  # every question moves by the same amount: no variance


def test_world_inputs_noise_replaces_lowest_ranks_with_irrelevant_docs() -> None:
    from trustir.prag.data import build_inputs, holds_answer
    from trustir.prag.params import PragParams
    from trustir.retrieval.params import Bm25Params
    from trustir.sources.params import DataParams

    pp = PragParams.model_validate(
        {"data": {"max_questions": 3, "top_k": 2}, "noise": [0.0, 0.5, 1.0]}
    )
    inputs = build_inputs(pp, DataParams(scale=0.15), Bm25Params(), Path("."))
    text = {d: f"{t} {x}" for d, t, x in inputs.docs.select("doc_id", "title", "text").rows()}
    answers = dict(inputs.questions.select("qid", "answers").iter_rows())
    assert inputs.questions["hit"].all() and inputs.questions.height == 3
    for qid in answers:
        ctx = inputs.contexts.filter(pl.col("qid") == qid).sort("noise", "rank")
        at = {n: g["doc_id"].to_list() for (n,), g in ctx.group_by("noise", maintain_order=True)}
        assert at[0.5][0] == at[0.0][0] and at[0.5][1] in at[1.0]  # rank 2 goes first; nested
        assert not set(at[1.0]) & set(at[0.0])
        assert not any(holds_answer(text[d], answers[qid]) for d in at[1.0])
        assert any(holds_answer(text[d], answers[qid]) for d in at[0.0])  # require_hit


SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
POPQA = SHARED / "popqa_longtail_disambiguated"


@pytest.mark.skipif(not POPQA.is_dir(), reason="../shared/data/popqa_longtail_disambiguated absent")
def test_popqa_questions_with_a_beir_corpus(tmp_path: Path) -> None:
    """The opt-in PopQA path end to end up to the contexts: the real long-tail CSV, and a BEIR
    corpus written here from its first rows' (subject, relation, object) triples plus
    unrelated pages (PopQA ships no corpus)."""
    import json

    from trustir.prag.data import build_inputs, holds_answer, popqa_questions
    from trustir.prag.params import PragParams
    from trustir.retrieval.params import Bm25Params
    from trustir.sources.params import DataParams

    qs = popqa_questions(POPQA)
    assert qs.height == 1399 and qs["qid"].n_unique() == 1399
    first = qs.row(0, named=True)
    assert first["question"] == "What is Henry Feilden's occupation?"
    assert "politician" in first["answers"]
    rows = pl.read_csv(POPQA / "DisambPopQA.csv", infer_schema=False).head(12)
    docs = [
        {"_id": f"f{i}", "title": s, "text": f"{s}'s {p} is {o}."}
        for i, (s, p, o) in enumerate(rows.select("subj", "prop", "obj").iter_rows())
    ] + [{"_id": f"x{i}", "title": f"Lake {i}", "text": f"Lake {i} is cold."} for i in range(12)]
    (tmp_path / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    pp = PragParams.model_validate({
        "data": {"source": "popqa", "questions": str(POPQA), "corpus": str(tmp_path),
                 "max_questions": 5, "top_k": 2, "exclude_depth": 2},
        "noise": [0.0, 1.0],
    })  # fmt: skip
    inputs = build_inputs(pp, DataParams(), Bm25Params(), tmp_path)
    text = {d: f"{t} {x}" for d, t, x in inputs.docs.select("doc_id", "title", "text").rows()}
    answers = dict(inputs.questions.select("qid", "answers").iter_rows())
    assert inputs.questions.height == 5 and inputs.questions["hit"].all()
    for qid, ans in answers.items():
        noisy = inputs.contexts.filter((pl.col("qid") == qid) & (pl.col("noise") == 1.0))
        assert not any(holds_answer(text[d], ans) for d in noisy["doc_id"])


def test_popqa_bad_answers_cell_names_the_file_and_row(tmp_path: Path) -> None:
    from trustir.prag.data import POPQA_FILE, popqa_questions

    (tmp_path / POPQA_FILE).write_text(
        'id,question,possible_answers\n1,Who?,"[""a""]"\n2,What?,not json\n'
    )
    with pytest.raises(ValueError, match=rf"{POPQA_FILE}:3: possible_answers is not a JSON"):
        popqa_questions(tmp_path)
