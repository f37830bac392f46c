"""End to end: two commits of the tiny project whose data differ (world seed 13 vs 14);
`trustir compare HEAD~1 HEAD` prints every paper table side by side with deltas and paired
tests, read through DVC without checking either commit out; `dvc plots diff` works offline;
the HTML report renders in headless Chromium."""

from __future__ import annotations

import json
import math
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from dvc_helpers import run_cmd, run_dvc

from trustir.report.browser import dump_dom, screenshot
from trustir.report.catalog import TABLES

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
GIT_ID = ["-c", "user.name=trustir tests", "-c", "user.email=tests@trustir.invalid"]


def commit(repo: Path, message: str) -> None:
    run_cmd(repo, "git", *GIT_ID, "add", "-A")
    run_cmd(repo, "git", *GIT_ID, "commit", "-q", "-m", message)


#: a compared cell: "A → B" and, when both sides have a value, " (+delta[, p=...])", then "*"
#: (p < alpha), "≈" (within noise: neither interval excludes the other's value) or "†".
CELL = re.compile(r"^(–|-?\d+\.\d+) → (–|-?\d+\.\d+)( \([+-]\d+\.\d+(, p=[^)]+)?\)\*?≈?†?)?$")


def sections(markdown: str) -> list[str]:
    """The ``## `` sections of the compare output, in order."""
    return ["## " + s for s in markdown.split("\n## ")[1:]]


def count_deltas(section: str) -> int:
    rows = [line for line in section.splitlines() if line.startswith("| ") and " → " in line]
    return sum(" (" in c for r in rows for c in r.strip("| ").split(" | ")[1:])


def valued_cells(repo: Path, table: str) -> int:
    """Cells of ``table`` (union of rows and columns) with a number at HEAD~1 and at HEAD, from
    the git-tracked metrics files."""

    def read(rev: str) -> dict:
        return json.loads(run_cmd(repo, "git", "show", f"{rev}:metrics/{table}.json").stdout)

    def number(v: object) -> bool:
        return isinstance(v, int | float) and not math.isnan(float(v))

    a, b = read("HEAD~1"), read("HEAD")
    rows = list(dict.fromkeys([*a, *b]))
    cols = list(dict.fromkeys(c for m in (a, b) for r in m.values() for c in r))
    return sum(
        number(a.get(r, {}).get(c)) and number(b.get(r, {}).get(c)) for r in rows for c in cols
    )


@pytest.fixture(scope="module")
def two_versions(tiny_reproduced: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reproduced tiny repo (seed 13) committed, then seed 14 reproduced and committed;
    both commits' DVC data in the cache shared with the original."""
    tiny_repo = tiny_reproduced
    repo = tmp_path_factory.mktemp("versions") / "repo"
    shutil.copytree(tiny_repo, repo, symlinks=True, ignore=shutil.ignore_patterns("cache"))
    run_dvc(repo, "cache", "dir", "--local", str(tiny_repo / ".dvc" / "cache"))
    commit(repo, "tiny world, seed 13")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["data"]["seed"] = 14
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run_dvc(repo, "repro", "-q", timeout=1200)
    commit(repo, "tiny world, seed 14")
    for out in ("data", "metrics", "reports"):  # compare reads git + the DVC cache, not these
        shutil.rmtree(repo / out)
    return repo


def test_compare_prints_every_paper_table(two_versions: Path):
    out = run_cmd(
        two_versions, str(BIN / "trustir"), "compare", "HEAD~1", "HEAD", timeout=1200
    ).stdout
    assert "_missing at" not in out  # every table is there at both revisions
    titles = [line for line in out.splitlines() if line.startswith("## ")]
    assert len(titles) == len(TABLES), titles
    assert "_changes: `data.seed`: default → 14" in out
    rows = [line for line in out.splitlines() if line.startswith("| ") and " → " in line]
    cells = [c.strip() for r in rows for c in r.strip("| ").split(" | ")[1:]]
    parsed = [CELL.match(c) for c in cells]
    assert rows and all(parsed), [c for c, m in zip(cells, parsed, strict=True) if not m]
    for m in parsed:  # a delta exactly where both revisions have a value
        assert (m.group(3) is not None) == ("–" not in (m.group(1), m.group(2))), m.group(0)
    assert [count_deltas(s) for s in sections(out)] == [
        valued_cells(two_versions, e.name) for e in TABLES
    ]  # every cell with a value at both revisions has its delta, table by table
    assert all(", p=" in r for r in rows if r.startswith(("| bm25 |", "| dense-minilm |")))
    assert ", p=" in out  # per-query paired tests ran
    html = two_versions / "compare.html"
    run_cmd(
        two_versions,
        str(BIN / "trustir"),
        "compare",
        "HEAD~1",
        "HEAD",
        "--html",
        str(html),
        timeout=1200,
    )
    assert dump_dom(html).count("<table") == len(TABLES)


def test_plots_diff_renders_offline(two_versions: Path, tmp_path: Path):
    out = tmp_path / "plots"
    run_dvc(two_versions, "plots", "diff", "HEAD~1", "HEAD", "-o", str(out), timeout=1200)
    page = (out / "index.html").read_text()
    assert "<script" not in page  # image plots: no vega from a CDN
    images = sorted(p.name for p in (out / "static").iterdir())
    for entry in TABLES:
        if entry.plot:
            flat = entry.plot.replace("/", "_")
            assert f"HEAD~1_{flat}" in images and f"HEAD_{flat}" in images
    png = screenshot(out / "index.html", tmp_path / "plots.png", 900, 900)
    assert png.stat().st_size > 5_000


def test_html_report_of_a_real_run(two_versions: Path, tiny_reproduced: Path):
    page = tiny_reproduced / "reports" / "index.html"
    dom = dump_dom(page)
    assert dom.count("<table") == len(TABLES) and "not built" not in dom
    assert dom.count("data:image/png;base64,") == sum(1 for e in TABLES if e.plot)
