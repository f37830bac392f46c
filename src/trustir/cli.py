"""The ``trustir`` command: one subcommand per user-facing job (the DAG itself runs via DVC)."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from trustir.paths import repo_root


def _cmd_params(args: argparse.Namespace) -> int:
    """Validate params.yaml and print the values that differ from trustir's defaults."""
    from trustir.config import non_default
    from trustir.params import load_params

    params = load_params(Path(args.file))
    print(
        json.dumps(non_default(params), indent=2) if args.diff else params.model_dump_json(indent=2)
    )
    return 0


def _cmd_profile(args: argparse.Namespace) -> int:
    """Print a profile as `dvc exp run -S` arguments, or merge it into params.yaml (--write)."""
    from trustir.profiles import apply_profile, as_set_args, load_profile

    root = repo_root()
    if args.write:
        apply_profile(root / "params.yaml", args.name, root)
        print(f"params.yaml: applied profile {args.name!r}")
    else:
        print(shlex.join(as_set_args(load_profile(args.name, root))))
    return 0


def _cmd_repro(args: argparse.Namespace) -> int:
    """Run the DAG with `dvc repro` (extra arguments are passed on)."""
    return subprocess.call(["dvc", "repro", *args.dvc_args], cwd=repo_root())  # noqa: S603, S607  fixed argv; dvc from the venv's PATH as the user runs it


def _cmd_pipeline(args: argparse.Namespace) -> int:
    """Run the DAG as a Prefect flow (one task per stage), reporting to PREFECT_API_URL if set."""
    # The flow is the repo's script, run as its own process: src/ never imports flows/ (flows
    # sit above the library, and an installed trustir has no flows package to import).
    root = repo_root()
    script = root / "flows" / "pipeline.py"
    if not script.is_file():
        raise FileNotFoundError(f"{script} is missing: run `trustir pipeline` in a trustir repo")
    extra = ["--force"] if args.force else []
    extra += ["--profile", args.profile] if args.profile else []
    extra += ["--retries", str(args.retries)] if args.retries is not None else []
    return subprocess.call([sys.executable, str(script), *args.stages, *extra], cwd=root)  # noqa: S603  this interpreter on a stage script of the repo


def _cmd_world(args: argparse.Namespace) -> int:
    """Write the mini-world as a BEIR-layout folder (corpus.jsonl, queries.jsonl, qrels/)."""
    from trustir.io.beir import write_beir
    from trustir.sources.world import generate_world

    w = generate_world(args.scale, args.seed)
    q, test_ids = w["qrels"], w["queries"].filter(w["queries"]["split"] == "test")["query_id"]
    gt = q.filter(q["source"] == "world")
    write_beir(
        Path(args.out),
        w["corpus"],
        w["queries"],
        gt.filter(gt["query_id"].is_in(test_ids.implode())),
        q.filter(q["source"] == "human"),
    )
    print(f"wrote {args.out}: {w['corpus'].height} docs, {w['queries'].height} queries")
    return 0


def _cmd_download(args: argparse.Namespace) -> int:
    """Download a BEIR dataset into the download cache (checksum-verified) and print its path."""
    from trustir.sources.beir import fetch_beir

    print(fetch_beir(args.name))
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    """Score a TREC run file against a TREC qrels file with ir_measures."""
    import polars as pl

    from trustir.evaluate.measures import evaluate_run
    from trustir.io.trec import read_trec_run

    run = read_trec_run(args.run)
    qrels = pl.read_csv(
        args.qrels,
        separator=" ",
        has_header=False,
        new_columns=["query_id", "iter", "doc_id", "relevance"],
        schema_overrides={"query_id": pl.String, "doc_id": pl.String},
    )
    agg, _ = evaluate_run(run, qrels, args.measures, args.min_rel)
    for name, value in agg.items():
        print(f"{name}\t{value:.4f}")
    return 0


def _cmd_serve_llm(args: argparse.Namespace) -> int:
    """Serve an LLM over an OpenAI-compatible HTTP API (/v1/completions, /v1/chat/completions)."""
    from trustir.llm.server import main as serve

    return serve(args.server_args) or 0


def _cmd_compare(args: argparse.Namespace) -> int:
    """Every paper table of revisions A and B side by side: deltas and paired significance."""
    from trustir.io.atomic import write_text
    from trustir.report.compare import compare_html, compare_markdown, compare_revisions

    diffs, ra, rb = compare_revisions(repo_root(), args.a, args.b, args.table, args.test, args.seed)
    if not diffs:
        raise ValueError(f"neither {args.a} nor {args.b} has any paper table (metrics/*.json)")
    print(compare_markdown(diffs, ra, rb, args.test, args.alpha))
    if args.html:
        write_text(compare_html(diffs, ra, rb, args.test, args.alpha), args.html)
        print(f"HTML: {args.html}", file=sys.stderr)
    return 0


def _cmd_dag(args: argparse.Namespace) -> int:
    """dvc.yaml's code deps from the imports: `dag deps [--check|--write]`, `dag affected FILE`."""
    from trustir.dag.command import run

    return run(args)


def _cmd_noise(args: argparse.Namespace) -> int:
    """Per paper table of the workspace: n, widest 95 % interval, MDE, smoke-sized or not."""
    from trustir.report.build import noise_summary

    print(noise_summary(repo_root()), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="trustir",
        description="trustir: the lab's experiment factory. The pipeline is a DVC DAG "
        "(dvc.yaml); these commands are the jobs around it.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("params", help=_cmd_params.__doc__)
    s.add_argument("--file", default="params.yaml")
    s.add_argument("--diff", action="store_true", help="only values that differ from defaults")
    s.set_defaults(fn=_cmd_params)

    s = sub.add_parser("profile", help=_cmd_profile.__doc__)
    s.add_argument("name", help="a file in profiles/ (tiny, study, scifact...)")
    s.add_argument("--write", action="store_true", help="merge it into params.yaml")
    s.set_defaults(fn=_cmd_profile)

    s = sub.add_parser("repro", help=_cmd_repro.__doc__)
    s.add_argument("dvc_args", nargs=argparse.REMAINDER)
    s.set_defaults(fn=_cmd_repro)

    s = sub.add_parser("pipeline", help=_cmd_pipeline.__doc__)
    s.add_argument("stages", nargs="*", help="only these stages (default: all, in DAG order)")
    s.add_argument("--force", action="store_true", help="re-run stages even if cached")
    s.add_argument("--profile", help="merge profiles/PROFILE.yaml into params.yaml first")
    s.add_argument("--retries", type=int, help="re-runs after a transient failure (params scale)")
    s.set_defaults(fn=_cmd_pipeline)

    s = sub.add_parser("compare", help=_cmd_compare.__doc__)
    s.add_argument("a", help="baseline: git revision, tag, branch, DVC experiment or 'workspace'")
    s.add_argument("b", help="the other revision (same forms)")
    s.add_argument("--table", action="append", help="only this table (repeatable)")
    s.add_argument("--test", choices=["t", "fisher"], default="t", help="paired test per cell")
    s.add_argument("--alpha", type=float, default=0.05, help="significance level of the marker")
    s.add_argument("--seed", type=int, default=0, help="seed of the randomization test")
    s.add_argument("--html", help="also write the comparison as a static HTML page here")
    s.set_defaults(fn=_cmd_compare)

    from trustir.dag.command import add_arguments as add_dag_arguments

    add_dag_arguments(sub.add_parser("dag", help=_cmd_dag.__doc__))
    sub.choices["dag"].set_defaults(fn=_cmd_dag)
    s = sub.add_parser("noise", help=_cmd_noise.__doc__)
    s.set_defaults(fn=_cmd_noise)

    s = sub.add_parser("world", help=_cmd_world.__doc__)
    s.add_argument("out", help="output folder")
    s.add_argument("--scale", type=float, default=1.0)
    s.add_argument("--seed", type=int, default=13)
    s.set_defaults(fn=_cmd_world)

    s = sub.add_parser("download", help=_cmd_download.__doc__)
    s.add_argument("name", help="BEIR dataset name, e.g. scifact")
    s.set_defaults(fn=_cmd_download)

    s = sub.add_parser("serve-llm", help=_cmd_serve_llm.__doc__, add_help=False)
    s.add_argument("server_args", nargs=argparse.REMAINDER, help="--model --host --port ...")
    s.set_defaults(fn=_cmd_serve_llm)

    s = sub.add_parser("evaluate", help=_cmd_evaluate.__doc__)
    s.add_argument("run", help="TREC run file")
    s.add_argument("qrels", help="TREC qrels file (qid 0 docid rel)")
    s.add_argument("--measures", nargs="+", default=["nDCG@10", "R@100", "RR@10"])
    s.add_argument("--min-rel", type=int, default=1)
    s.set_defaults(fn=_cmd_evaluate)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve-llm"]:  # its own parser owns every flag, --help included
        from trustir.llm.server import main as serve

        return serve(argv[1:]) or 0
    args = build_parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        return args.fn(args)
    except (ValueError, FileNotFoundError, KeyError, RuntimeError) as exc:
        print(f"trustir {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
