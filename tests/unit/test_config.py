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


# -- sections, stage views, the base layer ---------------------------------------------------------
def test_every_section_is_named_by_its_field():
    from trustir.params import SECTIONS

    assert [s.section_name for s in SECTIONS] == list(Params.model_fields)
    assert len(SECTIONS) == 17


def test_a_stage_sees_only_the_sections_it_declares(tmp_path):
    from trustir.config import UndeclaredSection
    from trustir.evaluate.params import EvaluateParams
    from trustir.sources.params import DataParams
    from trustir.stage import stage_params

    (tmp_path / "params.yaml").write_text("data:\n  seed: 7\nindex:\n  depth: 5\n")
    view = stage_params("toy", (DataParams, EvaluateParams), tmp_path / "params.yaml")
    assert view.data.seed == 7 and view.evaluate == EvaluateParams()
    assert non_default(view) == {"data.seed": 7}  # index.depth is not this stage's
    with pytest.raises(UndeclaredSection, match=r"stage 'toy' reads params section 'index'"):
        view.index  # noqa: B018


def test_a_stage_names_the_file_and_key_of_a_bad_value(tmp_path):
    from trustir.annotate.params import AnnotateParams
    from trustir.stage import stage_params

    (tmp_path / "params.yaml").write_text("annotate:\n  judge: relevanse\n")
    with pytest.raises(
        ParamsError, match=r"params.yaml: annotate.judge: unknown judge 'relevanse'; known"
    ):
        stage_params("annotate", (AnnotateParams,), tmp_path / "params.yaml")


def test_judge_names_are_checked_when_params_load():
    with pytest.raises(ParamsError, match=r"unknown judge 'nope'; known.*relevance, relevance-b"):
        parse_params({"annotate": {"judge": "nope"}})
    assert parse_params({"annotate": {"judge": "relevance-binary", "mode": "generate"}})


def test_the_base_layer_imports_no_area():
    import ast
    import subprocess
    import sys

    base = ["config", "section", "registry", "schema", "io", "paths", "tables", "stage"]
    code = (
        "import sys\n"
        + "".join(f"import trustir.{m}\n" for m in base)
        + "print(sorted({n.split('.')[1] for n in sys.modules if n.startswith('trustir.')}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert set(ast.literal_eval(out.stdout)) <= set(base), out.stdout
