"""The ``lvlm_sample`` stage's work (P10): every reply of the VLM and of its text-only LLM
counterpart, through the label store (``trustir.llm.sampling.sample_many``).

Per question and model: the greedy reply and ``lvlm.n`` temperature samples of the answer
prompt, the greedy verbalized reply ("answer | confidence"), the greedy reply to each rephrased
question, and (VLM only) the greedy reply to each perturbed image. The VLM sees the rendered
page and the question; the text model sees the page's text (title and shown words) as its
document and the same question (the calibration prompts). The rephrasings are written once by
the text LLM (sampled, cached) and asked of both models.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from trustir.calibration import prompts as P
from trustir.llm.base import LLMBackend, derive_seed
from trustir.llm.sampling import GREEDY, SamplingParams, sample_many
from trustir.llm.store import LabelStore
from trustir.lvlm.backend import VLMBackend, image_prompt
from trustir.lvlm.params import LvlmParams
from trustir.lvlm.perturb import perturb

SAMPLES = {
    "model": pl.String,  # "vlm" | "text"
    "qid": pl.String,
    "kind": pl.String,  # answer | verbalized | rephrased | perturbed
    "index": pl.String,  # "greedy", a sample index, a rephrasing index or a perturbation
    "text": pl.String,
    "tokens": pl.List(pl.String),
    "token_logprobs": pl.List(pl.Float64),
    "logprob": pl.Float64,
}
REPHRASINGS = {"qid": pl.String, "index": pl.Int64, "question": pl.String}
REPHRASE = (
    "Rewrite the question below in different words, keeping its meaning. Reply with the new "
    "question only.\nQuestion: {q}"
)
_LEAD = re.compile(r"^\s*(?:(?:new|rephrased|rewritten|reworded)\s+)?question\s*:\s*", re.I)


def parse_rephrasing(reply: str, original: str) -> str:
    """The question a rephrasing reply gives: its first line without a "Question:" lead or
    quotes; the original question when nothing with a letter is left."""
    line = next((s.strip() for s in reply.splitlines() if s.strip()), "")
    line = _LEAD.sub("", line).strip().strip("\"'").strip()
    return line if re.search(r"[A-Za-z]", line) else original


def rephrase(
    vqa: pl.DataFrame, p: LvlmParams, llm: LLMBackend, store: LabelStore, ledger: Any = None
) -> pl.DataFrame:
    """``lvlm.rephrasings`` sampled rewrites of each question by the text LLM (REPHRASINGS)."""
    if p.rephrasings == 0:
        return pl.DataFrame(schema=REPHRASINGS)
    sp = SamplingParams(p.rephrasings, p.rephrase_temperature, 1.0, p.rephrase_tokens, p.seed)
    prompts = {q: REPHRASE.format(q=t) for q, t in vqa.select("qid", "question").iter_rows()}
    got = sample_many(llm, store, prompts, sp, greedy=False, task="lvlm.rephrase", ledger=ledger)
    rows = [
        (q, j, parse_rephrasing(g.text, t))
        for q, t in vqa.select("qid", "question").iter_rows()
        for j, g in enumerate(got[q].samples)
    ]
    return pl.DataFrame(rows, schema=REPHRASINGS, orient="row")


def _rows(model: str, kind: str, got: dict, index_of: dict | None = None) -> list[tuple]:
    """SAMPLES rows of ``sample_many``'s result; ``index_of`` maps a prompt key to (qid, index)
    for prompts asked greedily once each."""
    rows = []
    for key, s in got.items():
        gens = [(GREEDY, s.greedy)] if s.greedy is not None else []
        gens += list(enumerate(s.samples))
        for i, g in gens:
            qid, idx = index_of[key] if index_of else (key, str(i))
            rows.append((model, qid, kind, idx, g.text, g.tokens, g.token_logprobs, g.logprob))
    return rows


def ask(
    model: str,
    backend: LLMBackend,
    questions: dict[str, Any],
    rephrased: pl.DataFrame,
    p: LvlmParams,
    store: LabelStore,
    ledger: Any = None,
) -> list[tuple]:
    """Every reply of one model. ``questions``: qid -> a function (question text, variant) ->
    prompt, where variant is "" or a perturbation name (the VLM's image)."""
    sampling = SamplingParams(p.n, p.temperature, p.top_p, p.max_new_tokens, p.seed)
    greedy = SamplingParams(0, p.temperature, p.top_p, p.max_new_tokens, p.seed)
    kw = {"task": f"lvlm.{model}", "ledger": ledger}
    text = {q: f["question"] for q, f in questions.items()}
    ans = {q: f["prompt"](text[q], "") for q, f in questions.items()}
    rows = _rows(model, "answer", sample_many(backend, store, ans, sampling, **kw))
    verbal = {q: f["prompt"](P.VERBALIZED.format(q=text[q]), "raw") for q, f in questions.items()}
    rows += _rows(model, "verbalized", sample_many(backend, store, verbal, greedy, **kw))
    reph, where = {}, {}
    for q, j, rq in rephrased.iter_rows():
        reph[f"{q}#r{j}"], where[f"{q}#r{j}"] = questions[q]["prompt"](rq, ""), (q, str(j))
    if reph:
        rows += _rows(model, "rephrased", sample_many(backend, store, reph, greedy, **kw), where)
    if model == "vlm":
        pert, where = {}, {}
        for q, f in questions.items():
            for kind in p.perturbations:
                pert[f"{q}#{kind}"], where[f"{q}#{kind}"] = f["prompt"](text[q], kind), (q, kind)
        if pert:
            rows += _rows(model, "perturbed", sample_many(backend, store, pert, greedy, **kw),
                          where)  # fmt: skip
    return [(m, q, k, i, t, tk, lp, lg) for m, q, k, i, t, tk, lp, lg in rows]


def text_questions(vqa: pl.DataFrame) -> dict[str, Any]:
    """The text model's prompts: the page's text as its document, then the instruction."""
    out = {}
    for q, question, page in vqa.select("qid", "question", "page_text").iter_rows():

        def prompt(text: str, variant: str, page=page) -> str:
            if variant == "raw":  # an instruction already holding the question
                return P.documents([page]) + text
            return P.answer_prompt(text, [page])

        out[q] = {"question": question, "prompt": prompt}
    return out


def vlm_questions(vqa: pl.DataFrame, vlm: VLMBackend, images: Any, p: LvlmParams) -> dict:
    """The VLM's prompts: the page image (or its seeded perturbation) and the question."""
    out = {}
    for q, image_id, question in vqa.select("qid", "image_id", "question").iter_rows():
        image = images.get(image_id)
        shas = {"": vlm.add_image(image), "raw": None}
        shas["raw"] = shas[""]
        for kind in p.perturbations:
            seed = derive_seed(p.seed, q, kind)
            shas[kind] = vlm.add_image(perturb(image, kind, p, seed))

        def prompt(text: str, variant: str, shas=shas) -> str:
            return image_prompt(shas[variant], text)

        out[q] = {"question": question, "prompt": prompt}
    return out


def collect(
    vqa: pl.DataFrame,
    p: LvlmParams,
    llm: LLMBackend | None,
    vlm: VLMBackend | None,
    images: Any,
    store: LabelStore,
    ledger: Any = None,
) -> dict[str, pl.DataFrame]:
    """``samples`` (SAMPLES) and ``rephrasings`` (REPHRASINGS) of every model in ``p.models``."""
    if llm is None:
        raise ValueError("lvlm: the text LLM writes the rephrasings; llm is needed")
    rephrased = rephrase(vqa, p, llm, store, ledger)
    rows: list[tuple] = []
    if "vlm" in p.models:
        rows += ask("vlm", vlm, vlm_questions(vqa, vlm, images, p), rephrased, p, store, ledger)
    if "text" in p.models:
        rows += ask("text", llm, text_questions(vqa), rephrased, p, store, ledger)
    return {"samples": pl.DataFrame(rows, schema=SAMPLES, orient="row"), "rephrasings": rephrased}
