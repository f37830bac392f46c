"""Stage prag_train (P9 PRAG): one LoRA per document, trained only where the adapter store lacks
its key -> data/prag_train/adapters.parquet (the index: doc, key, bytes, loss); the adapters
themselves live in the adapter store (outside DVC's outputs, like the label store)."""

import time
from pathlib import Path
from typing import TYPE_CHECKING

from trustir.io.runlog import write_run_record
from trustir.llm.config import LLMParams
from trustir.prag.model import BaseModel
from trustir.prag.params import PragParams
from trustir.prag.store import AdapterStore
from trustir.prag.train import train_missing
from trustir.stage import stage
from trustir.tables import read_tables, write_tables

if TYPE_CHECKING:
    from trustir.params import Params


@stage("prag_train", sections=(LLMParams, PragParams))
def main(params: "Params", root: Path) -> None:
    pp = params.prag
    t = read_tables(root / "data/prag_augment", ["docs", "augment"])
    store = AdapterStore(Path(pp.adapter_store).expanduser() if pp.adapter_store else None)
    t0 = time.perf_counter()
    adapters, trained = train_missing(
        t["docs"], t["augment"], pp.lora, BaseModel(params.llm), store
    )
    seconds = time.perf_counter() - t0
    out = root / "data/prag_train"
    write_tables({"adapters": adapters}, out)
    write_run_record(out, {"trained": trained, "cached": adapters.height - trained,
                           "seconds": round(seconds, 1)}, root)  # fmt: skip
    print(f"prag_train: {adapters.height} adapters ({trained} trained now in {seconds:.1f}s, "
          f"{adapters['bytes'].mean():.0f} bytes each)")  # fmt: skip


if __name__ == "__main__":
    main()
