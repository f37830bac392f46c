"""End to end: with dvc.yaml's code deps from the imports (``trustir dag deps``), an edit of P3's
report module makes ``dvc status`` mark the aggregating ``multipos`` stage only, not the
``train_retriever`` matrix that produced its inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dvc_helpers import run_dvc

from trustir.dag.dvcfile import expand, load_dvcfile, load_params, stages_listing

pytestmark = pytest.mark.slow

#: imported by the multipos stage's script only (the table, the pivot, the Markdown report).
P3_REPORT = "src/trustir/retrieval/multipos_report.py"


def changed_stages(repo: Path, *targets: str) -> dict[str, list]:
    """``dvc status --json`` of ``targets`` and the stages upstream of them."""
    out = run_dvc(repo, "status", "--json", "--with-deps", *targets).stdout
    return json.loads(out or "{}")


def test_editing_p3s_report_reruns_multipos_only(tiny_reproduced: Path):
    tiny_repo = tiny_reproduced  # the session's reproduced tiny repo: `repro multipos` is a no-op
    variants = expand(load_dvcfile(tiny_repo / "dvc.yaml"), load_params(tiny_repo))
    assert stages_listing(variants, P3_REPORT) == ["multipos"]
    trained = [v.name for v in variants if v.template == "train_retriever"]
    assert len(trained) >= 2
    # a no-op when test_dvc_repro already reproduced this session's tiny repo
    run_dvc(tiny_repo, "repro", "multipos", timeout=1800)
    assert changed_stages(tiny_repo, "multipos") == {}

    module = tiny_repo / P3_REPORT
    source = module.read_text()
    try:
        module.write_text(source + "# an edit that changes no behaviour\n")
        status = changed_stages(tiny_repo, "multipos")
    finally:
        module.write_text(source)
    assert list(status) == ["multipos"], status
    assert status["multipos"] == [{"changed deps": {P3_REPORT: "modified"}}]
    assert changed_stages(tiny_repo, "multipos") == {}  # restored: the repo is as it was
