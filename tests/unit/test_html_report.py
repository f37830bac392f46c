"""The offline HTML report: every saved table and its plot on one static page, rendered by
headless Chromium (Debian's package, which `make test` installs) without network access."""

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from matplotlib import image

from trustir.report import Table
from trustir.report.browser import dump_dom, screenshot
from trustir.report.build import write_report


def _save(root: Path, name: str, data_dir: str, cells: dict) -> Table:
    per_query = pl.DataFrame(
        [
            {"row": r, "column": "nDCG@10", "query_id": "q1", "value": v["nDCG@10"]}
            for r, v in cells.items()
        ]
    )
    table = Table(name, f"table {name}", cells, per_query=per_query)
    table.save(root / "metrics", root / data_dir)
    table.plot(root / f"reports/plots/{name}.png")
    return table


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    _save(
        root,
        "retrieval",
        "data/evaluate",
        {"bm25": {"nDCG@10": 0.601}, "dense": {"nDCG@10": 0.676}},
    )
    _save(root, "multipos", "data/multipos", {"infonce/human": {"nDCG@10": 0.826}})
    return write_report(root)


def test_page_is_self_contained(report: Path):
    html = report.read_text()
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert html.count("data:image/png;base64,") == 2  # both plots embedded
    assert "not built" in html  # catalog tables whose stage did not run are listed as such


def test_chromium_renders_the_tables(report: Path):
    dom = dump_dom(report)
    assert dom.count("<table") == 2
    assert "0.6760" in dom and "infonce/human" in dom
    assert 'class="best"' in dom  # the best cell of each column is highlighted


def test_screenshot_is_not_blank(report: Path, tmp_path: Path):
    png = screenshot(report, tmp_path / "report.png", width=1000, height=1200)
    pixels = image.imread(png)[..., :3]  # [h, w, 3] in [0, 1]
    assert pixels.shape[:2] == (1200, 1000)
    non_white = np.mean(pixels.min(axis=-1) < 0.9)
    assert non_white > 0.02  # text, table borders and the bar charts drew something
    assert pixels.std() > 0.05


def test_page_shows_intervals_n_and_the_smoke_warning(tmp_path: Path):
    per_query = pl.DataFrame(
        {
            "row": ["bm25"] * 3 + ["dense"] * 3,
            "column": ["nDCG@10"] * 6,
            "query_id": ["q1", "q2", "q3"] * 2,
            "value": [0.2, 0.9, 0.5, 0.3, 0.8, 0.6],
        }
    )
    cells = {"bm25": {"nDCG@10": 0.5333}, "dense": {"nDCG@10": 0.5667}}
    Table("retrieval", "t", cells, per_query=per_query).save(
        tmp_path / "metrics", tmp_path / "data/evaluate"
    )
    html = write_report(tmp_path).read_text()
    # the interval of each cell sits under its value; the rows are 0.033 apart, far inside them
    assert html.count("<span class='ci'>[") == 2
    assert "n = 3 queries (or items) per cell" in html
    assert "smoke-sized: see the `study` profile" in html
    assert "href='../README.md#noise-in-the-tables'" in html


def test_noise_summary_lists_n_and_widest_interval(tmp_path: Path):
    from trustir.report.build import noise_summary

    per_query = pl.DataFrame(
        {
            "row": ["bm25"] * 2,
            "column": ["nDCG@10"] * 2,
            "query_id": ["q1", "q2"],
            "value": [0.0, 1.0],
        }
    )
    Table("retrieval", "t", {"bm25": {"nDCG@10": 0.5}}, per_query=per_query).save(
        tmp_path / "metrics", tmp_path / "data/evaluate"
    )
    text = noise_summary(tmp_path)
    # two values 0 and 1: resampled means are 0, 0.5 or 1, so the interval is [0, 1]
    assert "| retrieval | 2 | 1.000 (bm25 / nDCG@10) | nan | no |" in text
    assert "| multipos | – | not built | – | – |" in text
