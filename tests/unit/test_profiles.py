"""Profiles: deep merge, key checks, a comment-keeping rewrite, `-S` args that DVC agrees with."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from trustir.profiles import (
    ProfileError,
    apply_profile,
    as_set_args,
    available_profiles,
    check_profile,
    deep_merge,
    hydra_value,
    load_profile,
)

REPO = Path(__file__).resolve().parents[2]

PARAMS = """\
# top comment
data:
  source: world          # where from
  path: null             # a folder
  name: mini-world
  scale: 1.0
index:
  depth: 100
  dense:
    batch_size: 64       # per step
evaluate:
  measures:
    - nDCG@10
    - R@100
  min_rel: null
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A folder with params.yaml and a few profiles."""
    (tmp_path / "params.yaml").write_text(PARAMS)
    prof = tmp_path / "profiles"
    prof.mkdir()
    (prof / "small.yaml").write_text("# small\ndata:\n  scale: 0.15\nindex:\n  depth: 50\n")
    (prof / "typo.yaml").write_text("index:\n  dense:\n    batch_sise: 8\n")
    (prof / "empty.yaml").write_text("# nothing\n")
    return tmp_path


def test_deep_merge_merges_sections_and_replaces_leaves() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 3}
    over = {"a": {"c": [9]}, "d": None}
    merged = deep_merge(base, over)
    assert merged == {"a": {"b": 1, "c": [9]}, "d": None}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 3}  # inputs untouched
    merged["a"]["c"].append(0)
    assert over == {"a": {"c": [9]}, "d": None}


def test_unknown_profile_lists_available(repo: Path) -> None:
    with pytest.raises(ProfileError, match="unknown profile 'nope'.*empty, small, typo"):
        load_profile("nope", repo)
    assert available_profiles(repo) == ["empty", "small", "typo"]


def test_repo_profiles_fit_params() -> None:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    assert "tiny" in available_profiles(REPO)
    for name in available_profiles(REPO):
        check_profile(params, load_profile(name, REPO), name)


def test_apply_profile_rewrites_values_and_keeps_comments(repo: Path) -> None:
    merged = apply_profile(repo / "params.yaml", "small")
    text = (repo / "params.yaml").read_text()
    assert yaml.safe_load(text) == merged
    assert merged["data"]["scale"] == 0.15 and merged["index"]["depth"] == 50
    assert merged["index"]["dense"]["batch_size"] == 64
    changed = [
        (a, b) for a, b in zip(PARAMS.splitlines(), text.splitlines(), strict=True) if a != b
    ]
    assert changed == [("  scale: 1.0", "  scale: 0.15"), ("  depth: 100", "  depth: 50")]
    assert sorted(p.name for p in repo.iterdir()) == ["params.yaml", "profiles"]  # no temp left


def test_empty_profile_leaves_file_byte_identical(repo: Path) -> None:
    apply_profile(repo / "params.yaml", "empty")
    assert (repo / "params.yaml").read_text() == PARAMS


def test_profile_key_not_in_params_is_named(repo: Path) -> None:
    with pytest.raises(ProfileError, match=r"'index\.dense\.batch_sise' is not in params"):
        apply_profile(repo / "params.yaml", "typo")
    assert (repo / "params.yaml").read_text() == PARAMS  # untouched on error


def test_section_replaced_by_value_is_an_error() -> None:
    with pytest.raises(ProfileError, match="'index' is a section"):
        check_profile({"index": {"depth": 1}}, {"index": 5})
    with pytest.raises(ProfileError, match=r"'index\.depth' is a value"):
        check_profile({"index": {"depth": 1}}, {"index": {"depth": {"x": 1}}})


def test_as_set_args_of_tiny_profile() -> None:
    args = as_set_args(load_profile("tiny", REPO))
    assert args[0::2] == ["-S"] * (len(args) // 2)
    assert "data.scale=0.15" in args[1::2]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        (3, "3"),
        (0.15, "0.15"),
        ("mini-world", "mini-world"),
        ("nDCG@10", "nDCG@10"),
        ("true", "'true'"),
        ("1e5", "'1e5'"),
        ("it's a b", "'it\\'s a b'"),
        (["nDCG@10", "R@100"], "[nDCG@10,R@100]"),
    ],
)
def test_hydra_value(value: object, text: str) -> None:
    assert hydra_value(value) == text


def test_set_args_match_dvc_set_param(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """`dvc exp run -S` (DVC's own override code) and apply_profile give the same params."""
    hydra = pytest.importorskip("dvc.utils.hydra")
    tricky = {
        "data": {
            "source": "local",
            "path": "../shared/data/beir scifact",
            "name": "1e5",
            "scale": 2.5,
        },
        "index": {"depth": 7},
        "evaluate": {"measures": ["nDCG@10", "RR@10", "it's"], "min_rel": 1},
    }
    (repo / "profiles" / "tricky.yaml").write_text(yaml.safe_dump(tricky))
    other = tmp_path_factory.mktemp("dvc") / "params.yaml"
    shutil.copy(repo / "params.yaml", other)
    ours = apply_profile(repo / "params.yaml", "tricky")
    hydra.apply_overrides(other, as_set_args(tricky)[1::2])
    assert yaml.safe_load(other.read_text()) == ours
