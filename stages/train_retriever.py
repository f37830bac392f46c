"""Stage train_retriever (P3): train one loss under one label regime, score it on the test
queries -> data/train_retriever/<loss>-<regime>/ (model/, run, per-query values, metrics.json).

Usage (one item of the dvc.yaml matrix): ``python stages/train_retriever.py LOSS REGIME``;
data-parallel on N GPUs: ``torchrun --standalone --nproc-per-node N stages/train_retriever.py
LOSS REGIME`` (``multipos.train.batch_size`` is then per GPU; README "Scaling out").
"""

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from trustir.evaluate.params import EvaluateParams
from trustir.retrieval.multipos import save_variant, train_variant, variant_name
from trustir.retrieval.params import IndexParams
from trustir.retrieval.train_params import MultiposParams
from trustir.sources.params import DataParams
from trustir.stage import stage
from trustir.tables import read_tables

if TYPE_CHECKING:
    from trustir.params import Params


@stage("train_retriever", sections=(DataParams, IndexParams, EvaluateParams, MultiposParams))
def main(params: "Params", root: Path) -> None:
    loss, regime = sys.argv[1:3]
    tables = read_tables(root / "data/fetch", ["corpus", "queries", "qrels"])
    tables["llm_qrels"] = pl.read_parquet(root / "data/annotate/qrels.parquet")
    tables["bm25_run"] = pl.read_parquet(root / f"data/index/{params.index.bm25.name}.run.parquet")
    out = root / "data/train_retriever" / variant_name(loss, regime)
    scores = train_variant(loss, regime, tables, params, out)
    if scores is None:  # torchrun: a rank other than 0
        return
    save_variant(scores, out)
    print(f"train_retriever {loss}/{regime}: {scores.measures} ({scores.info['steps']} steps)")


if __name__ == "__main__":
    main()
