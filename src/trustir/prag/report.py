"""P9's table: EM / F1 / contains per mode and noise level, with the paired tests of its claims.

Rows ``<mode>/<noise>``; per-question values behind every cell (for the bootstrap intervals and
the paired tests). The three claims of PRAG (PAPERS.md P9), tested with paired t-tests on
per-question F1 at noise 0 and on the per-question drop from noise 0 to the highest level:
parametric < textual; combined > textual and > parametric; combined drops less than textual.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from trustir.evaluate.significance import paired_test
from trustir.prag.metrics import MEASURES
from trustir.report.table import Table


@dataclass
class PragReport:
    """The table, the claims' tests, the details JSON and the Markdown page."""

    table: Table
    claims: list[dict[str, Any]]
    details: dict[str, Any]
    markdown: str


def row_name(mode: str, noise: float) -> str:
    return f"{mode}/{noise:g}"


def _values(scored: pl.DataFrame, mode: str, noise: float, measure: str) -> list[float]:
    sub = scored.filter((pl.col("mode") == mode) & (pl.col("noise") == noise)).sort("qid")
    return sub[measure].to_list()


def claims(scored: pl.DataFrame, measure: str = "f1") -> list[dict[str, Any]]:
    """P9's three claims as paired t-tests (a = baseline, b = the claimed-better side)."""
    levels = sorted(scored["noise"].unique().to_list())
    lo, hi = levels[0], levels[-1]

    def test(name: str, a: list[float], b: list[float]) -> dict[str, Any]:
        r = paired_test(a, b, "t")
        return {"claim": name, "mean_a": r.mean_a, "mean_b": r.mean_b, "delta": r.delta,
                "n": r.n, "p": r.p, "holds": r.delta > 0}  # fmt: skip

    v = {m: _values(scored, m, lo, measure) for m in ("textual", "parametric", "combined")}
    drop = {
        m: [x - y for x, y in zip(v[m], _values(scored, m, hi, measure), strict=True)] for m in v
    }
    return [
        test(f"parametric < textual ({measure}, noise {lo:g})", v["parametric"], v["textual"]),
        test(f"combined > textual ({measure}, noise {lo:g})", v["textual"], v["combined"]),
        test(f"combined > parametric ({measure}, noise {lo:g})", v["parametric"], v["combined"]),
        test(f"combined drops less than textual ({lo:g} -> {hi:g})", drop["combined"],
             drop["textual"]),
    ]  # fmt: skip


def logprob_gains(logprobs: pl.DataFrame) -> list[dict[str, Any]]:
    """What the LoRAs do to the gold answer's log-probability (paired t over questions): with
    no text (parametric vs vanilla), own documents' LoRAs vs irrelevant ones' (the control),
    on top of the text (combined vs textual), and, for scale, what the text does."""
    by = {
        row_name(m, n): g.sort("qid")["logp"].to_list()
        for (m, n), g in logprobs.group_by(["mode", "noise"], maintain_order=True)
    }
    levels = sorted(logprobs["noise"].unique().to_list())
    lo, hi = f"{levels[0]:g}", f"{levels[-1]:g}"
    pairs = [("vanilla", "parametric"), ("textual", "combined"), ("vanilla", "textual")]
    wanted = [(f"{a}/{lo}", f"{b}/{lo}") for a, b in pairs]
    wanted.insert(1, (f"parametric/{hi}", f"parametric/{lo}"))
    out = []
    for a, b in wanted:
        if a in by and b in by and a != b:
            r = paired_test(by[a], by[b], "t")
            out.append({"a": a, "b": b, "mean_a": r.mean_a, "mean_b": r.mean_b,
                        "delta": r.delta, "n": r.n, "p": r.p})  # fmt: skip
    return out


def build_table(scored: pl.DataFrame, title: str, provenance: Any, notes: list[str]) -> Table:
    cells: dict[str, dict[str, float]] = {}
    pq = []
    for (mode, noise), sub in scored.group_by(["mode", "noise"], maintain_order=True):
        row = row_name(mode, noise)
        cells[row] = {m: float(sub[m].mean()) for m in MEASURES}
        for qid, *vals in sub.select("qid", *MEASURES).iter_rows():
            pq += [(row, m, qid, float(x)) for m, x in zip(MEASURES, vals, strict=True)]
    schema = {"row": pl.String, "column": pl.String, "query_id": pl.String, "value": pl.Float64}
    return Table(
        name="prag", title=title, cells=cells, row_label="mode/noise",
        per_query=pl.DataFrame(pq, schema=schema, orient="row"), provenance=provenance,
        notes=notes,
    )  # fmt: skip


def claims_markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| claim | a | b | b - a | n | p (paired t) | direction holds |", "|---" * 7 + "|"]
    for c in rows:
        lines.append(
            f"| {c['claim']} | {c['mean_a']:.3f} | {c['mean_b']:.3f} | {c['delta']:+.3f} | "
            f"{c['n']} | {c['p']:.3g} | {'yes' if c['holds'] else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def prag_report(t: dict[str, pl.DataFrame], pp: Any, model: str, provenance: Any) -> PragReport:
    """P9's report from the stages' tables (questions, augment, adapters, answers, cosines and,
    where present, logprobs)."""
    from trustir.prag.analysis import cosine_summary

    scored, questions = t["answers"], t["questions"]
    aug, adapters = t["augment"], t["adapters"]
    vanilla = scored.filter(pl.col("mode") == "vanilla")
    prior = {m: float(vanilla[m].mean()) if vanilla.height else float("nan") for m in MEASURES}
    cos = cosine_summary(t["cosines"])
    unparseable = aug.filter(pl.col("status") != "ok").select("doc_id", "kind").unique().height
    details = {
        "questions": questions.height,
        "documents": adapters.height,
        "share_of_kept_questions_with_a_hit": float(questions["hit"].mean()),
        "vanilla": prior,
        "adapter_bytes_mean": float(adapters["bytes"].mean()),
        "train_loss_mean": float(adapters["loss"].mean()),
        "augment_unparseable_calls": unparseable,
        "augment_rows": aug.height,
        **cos,
    }
    notes = [
        f"{questions.height} questions ({pp.data.source}), top-{pp.data.top_k} BM25 documents, "
        f"{adapters.height} document LoRAs (r={pp.lora.r}, alpha={pp.lora.alpha:g}, "
        f"lr={pp.lora.lr:g}, {pp.lora.epochs} epoch) on {model}; noise = share of the top-k "
        "replaced by irrelevant documents.",
        f"Vanilla (no documents) EM {prior['em']:.3f} / contains {prior['contains']:.3f}: the "
        "model's prior on these facts (with world data they exist only in the world's pages).",
        f"Adapter cosine: same entity {cos['same_entity_cosine']:.3f} "
        f"({cos['same_entity_pairs']:.0f} pairs) vs unrelated {cos['unrelated_cosine']:.3f} "
        f"({cos['unrelated_pairs']:.0f} pairs); {details['adapter_bytes_mean'] / 1024:.0f} KiB "
        "per adapter.",
    ]
    title = f"P9 Parametric RAG: vanilla / textual / parametric / combined by noise ({model})"
    table = build_table(scored, title, provenance, notes)
    modes = set(scored["mode"].unique().to_list())
    tests = claims(scored) if {"textual", "parametric", "combined"} <= modes else []
    details["claims"] = tests
    gains = logprob_gains(t["logprobs"]) if "logprobs" in t else []
    details["answer_logprob"] = gains
    md = table.to_markdown() + "\n### P9's claims (paired t-tests on per-question F1)\n\n"
    md += (
        claims_markdown(tests) if tests else "_needs the textual, parametric and combined modes_\n"
    )
    if gains:
        md += (
            "\n### The signal: the gold answer's log-probability per token\n\n"
            "Teacher-forced after the answer prompt (mode/noise). A LoRA that carries its "
            "document's fact raises it with no text in context (parametric vs vanilla) more "
            "than the LoRAs of irrelevant documents do (parametric at the highest noise: the "
            "control for a format or domain shift).\n\n"
            "| a | b | a mean | b mean | b - a | n | p (paired t) |\n" + "|---" * 7 + "|\n"
        )
        md += "".join(
            f"| {g['a']} | {g['b']} | {g['mean_a']:.3f} | {g['mean_b']:.3f} | "
            f"{g['delta']:+.3f} | {g['n']} | {g['p']:.3g} |\n"
            for g in gains
        )
    return PragReport(table, tests, details, md)
