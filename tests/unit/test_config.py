"""Typed params: defaults parse, typos fail naming the key, experiment paths resolve."""

from pathlib import Path

import pytest
import yaml

from trustir.config import ParamsError, non_default
from trustir.params import Params, load_params, parse_params
from trustir.paths import origin_root, resolve_data_path

ROOT = Path(__file__).resolve().parents[2]


def test_repo_params_yaml_equals_the_typed_defaults():
    # params.yaml documents every knob; it must say exactly what the code defaults to
    assert load_params(ROOT / "params.yaml") == Params()


def test_misspelt_key_fails_naming_it():
    with pytest.raises(ParamsError, match=r"params.yaml: data.sourc: Extra inputs"):
        parse_params({"data": {"sourc": "world"}})


def test_bad_value_names_key_and_rule():
    with pytest.raises(ParamsError, match=r"data.source: unknown source 'web'; known.*beir, local"):
        parse_params({"data": {"source": "web"}})
    with pytest.raises(ParamsError, match=r"data.scale: Input should be greater than 0"):
        parse_params({"data": {"scale": 0}})


def test_unknown_section_fails():
    with pytest.raises(ParamsError, match=r"evaluat: Extra inputs"):
        parse_params({"evaluat": {}})


def test_non_default_lists_only_changes():
    p = parse_params({"data": {"source": "local", "path": "x"}, "index": {"depth": 10}})
    assert non_default(p) == {"data.source": "local", "data.path": "x", "index.depth": 10}


def test_profiles_only_name_existing_keys():
    for f in (ROOT / "profiles").glob("*.yaml"):
        base = yaml.safe_load((ROOT / "params.yaml").read_text())
        over = yaml.safe_load(f.read_text())

        def merge(a, b):
            return {
                **a,
                **{k: merge(a.get(k, {}), v) if isinstance(v, dict) else v for k, v in b.items()},
            }

        parse_params(merge(base, over), origin=f.name)  # raises on a typo


def test_data_path_resolves_from_a_dvc_experiment_copy(tmp_path):
    repo = tmp_path / "repo"
    exp = repo / ".dvc" / "tmp" / "exps" / "tmpabc123"
    exp.mkdir(parents=True)
    (tmp_path / "shared" / "scifact").mkdir(parents=True)
    assert origin_root(exp) == repo
    assert origin_root(repo) is None
    assert resolve_data_path("../shared/scifact", repo) == (tmp_path / "shared/scifact")
    assert resolve_data_path("../shared/scifact", exp) == (tmp_path / "shared/scifact")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        resolve_data_path("../nowhere", exp)
