"""The P3 trainer on a tiny BERT built from a config: steps, determinism, masks, checkpoints,
hard negatives, label regimes, and that it learns; one focused test trains the real MiniLM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch

from trustir.retrieval.encoders import CONFIG_MODELS, Encoder
from trustir.retrieval.losses import LOSSES
from trustir.retrieval.negatives import mine_hard_negatives
from trustir.retrieval.regimes import positives_for_regime
from trustir.retrieval.train import (
    BiEncoderTrainer,
    TrainParams,
    TrainPhase,
    TrainQuery,
    assemble_batch,
    build_train_phases,
    build_train_queries,
    encode_bucketed,
    train_biencoder,
)

WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
]
DOCS = {
    f"d{i}": f"{WORDS[i % len(WORDS)]} {WORDS[(3 * i) % len(WORDS)]} document {i}"
    for i in range(12)
}
TRAIN = [
    TrainQuery("q1", "alpha bravo", [("d0", 3), ("d1", 2)], ["d5", "d6"]),
    TrainQuery("q2", "charlie delta", [("d2", 3)], ["d7"]),
    TrainQuery("q3", "echo foxtrot", [("d3", 3), ("d4", 3), ("d0", 2)], ["d8", "d9"]),
    TrainQuery("q4", "golf hotel", [("d10", 2), ("d11", 1)], ["d1"]),
]


def params(model: str, **kw: object) -> TrainParams:
    base = dict(model=model, batch_size=2, max_length=24, lr=1e-3, device="cpu", hard_negatives=1)
    return TrainParams(**{**base, **kw})


def weights(trainer: BiEncoderTrainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in trainer.encoder.model.state_dict().items()}


@pytest.mark.parametrize(
    ("loss", "options"),
    [(name, {}) for name in LOSSES.names()]
    + [("lsepair", {"negatives": "max", "positives": "min"})],
)
def test_two_steps_of_each_loss_change_the_weights(
    tiny_model: str, loss: str, options: dict
) -> None:
    trainer = BiEncoderTrainer(params(tiny_model, loss=loss, loss_options=options), DOCS)
    before = weights(trainer)
    result = trainer.fit([TrainPhase("train", TRAIN, 1)], show_progress=False)
    assert result.steps == 2 and result.examples == 4
    assert all(np.isfinite(result.losses))
    after = weights(trainer)
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert "encoder.layer.0.attention.self.query.weight" in changed


def test_same_seed_same_weights(tiny_model: str) -> None:
    p = params(tiny_model, loss="rand1lh", epochs=2, grad_accum=2, hard_negatives=1)
    runs = []
    for _ in range(2):
        trainer = BiEncoderTrainer(p, DOCS)
        result = trainer.fit([TrainPhase("train", TRAIN, 2)], show_progress=False)
        runs.append((weights(trainer), result.losses))
    (w1, l1), (w2, l2) = runs
    assert l1 == l2
    assert all(torch.equal(w1[k], w2[k]) for k in w1)
    other = BiEncoderTrainer(p.model_copy(update={"seed": 99}), DOCS)
    other.fit([TrainPhase("train", TRAIN, 2)], show_progress=False)
    assert not all(torch.equal(w1[k], v) for k, v in weights(other).items())


def test_a_positive_is_never_a_negative_even_when_another_query_brings_it() -> None:
    a = TrainQuery("qa", "a", [("d0", 3), ("d1", 2)], ["d5"])
    b = TrainQuery("qb", "b", [("d1", 3)], ["d0"])  # d1 is A's positive, d0 is B's hard negative
    batch = assemble_batch([a, b], [["d0"], ["d1"]], [["d5"], ["d0"]])
    assert batch.doc_ids == ["d0", "d1", "d5"]  # deduplicated
    col = {d: j for j, d in enumerate(batch.doc_ids)}
    # A uses only d0 in the loss; d1 (its other positive, in the batch as B's) is not A's negative
    assert batch.pos_mask[0].tolist() == [True, False, False]
    assert batch.neg_mask[0, col["d1"]].item() is False
    assert batch.neg_mask[0, col["d5"]].item() is True
    # for B, d0 (A's positive) is a negative; its own positive d1 is not
    assert batch.pos_mask[1].tolist() == [False, True, False]
    assert batch.neg_mask[1].tolist() == [True, False, True]
    assert not (batch.pos_mask & batch.neg_mask).any()


def test_checkpoint_reloads_and_encodes(tiny_model: str, tmp_path: Path) -> None:
    out = tmp_path / "model"
    out.mkdir()
    (out / "stale.txt").write_text("replaced")  # an older output is replaced as a whole
    result = train_biencoder(
        TRAIN, DOCS, params(tiny_model, loss="lsepair"), out, show_progress=False
    )
    assert result.model_dir == out and (out / "model.safetensors").exists()
    assert (out / "trustir_train.json").exists() and not (out / "stale.txt").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp dirs left
    enc = Encoder(str(out), "mean", 24, "cpu")
    emb = enc.encode(["alpha bravo", "golf"], show_progress=False)
    assert emb.shape == (2, 32) and np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def test_curriculum_phases_share_one_run(tiny_model: str) -> None:
    phases = [TrainPhase("llm", TRAIN, 1), TrainPhase("human", TRAIN[:2], 1)]
    result = train_biencoder(phases, DOCS, params(tiny_model, loss="jointlh"), show_progress=False)
    assert result.steps == 3 and result.examples == 6


def test_length_buckets_give_the_same_embeddings(tiny_model: str) -> None:
    enc = Encoder(tiny_model, "mean", 24, "cpu")  # eval mode: no dropout
    texts = [DOCS[f"d{i}"] * (1 + i % 3) for i in range(12)]  # lengths vary
    with torch.no_grad():
        whole = enc.forward(texts)  # [12, 32]
        bucketed = encode_bucketed(enc, texts, 4)  # [12, 32]
    torch.testing.assert_close(bucketed, whole, atol=1e-5, rtol=1e-5)


def test_params_reject_unknown_loss_and_options() -> None:
    with pytest.raises(ValueError, match="unknown loss"):
        TrainParams(loss="nope")
    with pytest.raises(ValueError):
        TrainParams(epoch=2)  # extra="forbid"
    # options are checked by the loss itself when the trainer starts (params load without torch)
    from trustir.retrieval.losses import LOSSES

    with pytest.raises(ValueError, match="no option"):
        LOSSES.get("lsepair").check_options({"negative": "max"})


# -- hard negatives and label regimes -----------------------------------------------------------
def run_table(ranking: dict[str, list[str]]) -> pl.DataFrame:
    rows = [(q, d, 1.0 / r, r, "bm25") for q, ds in ranking.items() for r, d in enumerate(ds, 1)]
    return pl.DataFrame(rows, schema=["query_id", "doc_id", "score", "rank", "run"], orient="row")


def test_hard_negatives_never_include_positives() -> None:
    run = run_table({"q1": ["d0", "d5", "d1", "d6", "d7"], "q2": ["d2", "d2", "d3"]})
    queries = pl.DataFrame({"query_id": ["q1", "q2", "q3"], "text": ["a", "b", "c"]})
    positives = {"q1": [("d1", 2), ("d0", 3)], "q2": [("d2", 3)], "q3": [("d4", 1)]}
    tq = {q.query_id: q for q in build_train_queries(queries, positives, run, hard_negatives=2)}
    assert tq["q1"].negatives == ["d5", "d6"]
    assert tq["q1"].positives == [("d0", 3), ("d1", 2)]  # best first
    assert tq["q2"].negatives == ["d3"] and tq["q3"].negatives == []
    for q in tq.values():
        assert not set(q.negatives) & {d for d, _ in q.positives}
    assert mine_hard_negatives(run, {"q1": ["d0"]}, 2, skip_top=2) == {"q1": ["d1", "d6"]}


def labelled_world() -> tuple[pl.DataFrame, pl.DataFrame]:
    queries = pl.DataFrame(
        {
            "query_id": [f"q{i}" for i in range(10)],
            "text": ["t"] * 10,
            "split": ["train"] * 8 + ["test"] * 2,
        }
    )
    rows = []
    for i in range(10):
        rows.append((f"q{i}", f"h{i}", 3, "human"))
        rows += [(f"q{i}", f"l{i}a", 3, "llm:m"), (f"q{i}", f"l{i}b", 2, "llm:m")]
        rows.append((f"q{i}", f"l{i}c", 1, "llm:m"))
    qrels = pl.DataFrame(rows, schema=["query_id", "doc_id", "relevance", "source"], orient="row")
    return queries, qrels


def test_label_regimes() -> None:
    queries, qrels = labelled_world()
    (human,) = positives_for_regime("human", qrels, queries, min_rel=2)
    assert sorted(human.positives) == [f"q{i}" for i in range(8)]  # train queries only
    assert human.positives["q0"] == [("h0", 3)]
    (llm,) = positives_for_regime("llm", qrels, queries, min_rel=2)
    assert llm.positives["q3"] == [("l3a", 3), ("l3b", 2)]  # grade ≥ min_rel, best first
    (mixed,) = positives_for_regime("mixed", qrels, queries, min_rel=2, ratio=0.25, seed=1)
    from_llm = [q for q, p in mixed.positives.items() if p[0][0].startswith("l")]
    assert len(mixed.positives) == 8 and len(from_llm) == 2
    again = positives_for_regime("mixed", qrels, queries, min_rel=2, ratio=0.25, seed=1)[0]
    assert again.positives == mixed.positives
    first, second = positives_for_regime("curriculum", qrels, queries, min_rel=2)
    assert (first.name, second.name) == ("llm", "human") and first.share + second.share == 1.0
    phases = build_train_phases([first, second], queries, None, hard_negatives=0, epochs=3)
    assert [(p.name, p.epochs) for p in phases] == [("llm", 2), ("human", 1)]
    with pytest.raises(KeyError, match="unknown label regime"):
        positives_for_regime("nope", qrels, queries, min_rel=2)


# -- it learns ----------------------------------------------------------------------------------
#: a toy corpus where a query shares no content word with its document: "red sky" -> "the lion
#: lives here". Only training can tie them, so the untrained model ranks by chance.
COLORS = "red green blue yellow purple orange pink brown black white gray violet cyan gold"
ANIMALS = "lion tiger horse zebra eagle shark whale otter camel llama panda koala moose bison"
TOY_DOCS = {f"a{i}": f"the {a} lives here" for i, a in enumerate(ANIMALS.split(" "))}
TOY_QUERIES = [
    TrainQuery(f"c{i}", f"{c} sky", [(f"a{i}", 1)]) for i, c in enumerate(COLORS.split(" "))
]
#: nDCG@10 after training must exceed the untrained model's by at least this (measured: 0.22
#: untrained, 1.00 after 40 steps; 0.72 after 20).
LEARNING_MARGIN = 0.5


def toy_ndcg10(encoder: Encoder) -> float:
    """Mean nDCG@10 of the toy queries (one relevant document each: 1 / log2(rank + 1))."""
    encoder.model.eval()
    q = encoder.encode([t.text for t in TOY_QUERIES], show_progress=False)  # [n, dim]
    d = encoder.encode(list(TOY_DOCS.values()), show_progress=False)  # [n, dim]
    scores = q @ d.T
    gains = []
    for i in range(len(TOY_QUERIES)):
        rank = 1 + int((scores[i] > scores[i, i]).sum())  # ties count in the query's favour
        gains.append(1 / np.log2(rank + 1) if rank <= 10 else 0.0)
    return float(np.mean(gains))


def test_training_raises_ndcg_on_a_toy_corpus_by_a_margin() -> None:
    p = TrainParams(
        model="tiny-bert", batch_size=7, max_length=16, lr=1e-3, warmup_ratio=0.0,
        hard_negatives=0, device="cpu",
    )  # fmt: skip
    trainer = BiEncoderTrainer(p, TOY_DOCS)
    untrained = toy_ndcg10(trainer.encoder)
    result = trainer.fit([TrainPhase("train", TOY_QUERIES, 20)], show_progress=False)
    trained = toy_ndcg10(trainer.encoder)
    assert result.steps == 40 and result.losses[-1] < result.losses[0]
    assert untrained < 0.5  # chance level: nothing lexical ties a query to its document
    assert trained >= untrained + LEARNING_MARGIN, (untrained, trained)


def test_tiny_bert_is_the_same_model_on_every_build_and_leaves_the_rng_alone() -> None:
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    a, b = Encoder("tiny-bert", device="cpu"), Encoder("tiny-bert", device="cpu")
    assert torch.equal(torch.random.get_rng_state(), state)
    wa, wb = a.model.state_dict(), b.model.state_dict()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    cfg, spec = a.model.config, CONFIG_MODELS["tiny-bert"]
    assert (cfg.num_hidden_layers, cfg.hidden_size) == (2, 32)
    assert (spec["num_hidden_layers"], spec["hidden_size"]) == (2, 32)
    assert cfg.vocab_size == a.tokenizer.vocab_size == 30522  # MiniLM's WordPiece vocabulary


def test_minilm_trains_saves_and_reloads(tmp_path: Path) -> None:
    """The one test of training the real all-MiniLM-L6-v2 (the tiny profile trains tiny-bert):
    one step moves its weights, and the saved checkpoint reloads with MiniLM's shape."""
    p = params("minilm", loss="infonce", max_length=16, hard_negatives=1)
    before = Encoder("minilm", "mean", 16, "cpu").encode(["alpha bravo"], show_progress=False)
    result = train_biencoder(TRAIN[:2], DOCS, p, tmp_path / "model", show_progress=False)
    assert result.steps == 1 and np.isfinite(result.final_loss)
    saved = Encoder(str(result.model_dir), "mean", 16, "cpu")
    assert saved.model.config.num_hidden_layers == 6 and saved.dim == 384
    after = saved.encode(["alpha bravo"], show_progress=False)
    assert before.shape == after.shape == (1, 384)
    assert float(before[0] @ after[0]) < 1 - 1e-6  # the step changed the embedding
