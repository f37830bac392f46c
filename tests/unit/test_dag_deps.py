"""``trustir dag``: the static import closure (one synthetic package per rule, expected sets
worked out by hand), dvc.yaml's code deps checked and rewritten with its comments kept, variant
names and ``affected``, and the real repo's dvc.yaml in step with its imports."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from trustir.cli import main
from trustir.dag.dvcfile import (
    check_dvcfile,
    downstream,
    entry_point,
    expand,
    load_dvcfile,
    stages_listing,
    write_dvcfile,
)
from trustir.dag.imports import ClosureError, import_chain, import_closure

REPO = Path(__file__).resolve().parents[2]


def make_tree(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (path -> source, dedented) under ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def closure_of(root: Path, script: str = "stages/run.py") -> set[str]:
    """The closure of ``script``, as paths relative to ``root``."""
    entry = root / script
    found = import_closure(entry, [entry.parent, root / "src"])
    return {p.relative_to(root.resolve()).as_posix() for p in found}


# -- closure rules ---------------------------------------------------------------------------------
def test_import_of_a_dotted_module_pulls_every_parent_init(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "src/pkg/__init__.py": '"""doc"""\n',
            "src/pkg/sub/__init__.py": "",
            "src/pkg/sub/deep/__init__.py": "",
            "src/pkg/sub/deep/mod.py": "X = 1\n",
            "src/pkg/unused.py": "",
            "stages/run.py": "import json\nimport pkg.sub.deep.mod\n",
        },
    )
    assert closure_of(tmp_path) == {
        "src/pkg/__init__.py",
        "src/pkg/sub/__init__.py",
        "src/pkg/sub/deep/__init__.py",
        "src/pkg/sub/deep/mod.py",
    }


def test_from_import_pulls_a_submodule_but_not_a_name(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "src/pkg/__init__.py": "",
            "src/pkg/sub/__init__.py": "VALUE = 2\n",
            "src/pkg/sub/leaf.py": "",
            "src/pkg/sub/other.py": "",
            "stages/run.py": "from pkg.sub import VALUE, leaf\n",
        },
    )
    assert closure_of(tmp_path) == {
        "src/pkg/__init__.py",
        "src/pkg/sub/__init__.py",
        "src/pkg/sub/leaf.py",
    }


def test_init_chains_are_followed_transitively(tmp_path: Path) -> None:
    # the script imports one name from pkg.sub, whose __init__ re-exports from impl, which
    # imports pkg.util: all of it runs.
    make_tree(
        tmp_path,
        {
            "src/pkg/__init__.py": "",
            "src/pkg/util.py": "def helper(): ...\n",
            "src/pkg/sub/__init__.py": "from pkg.sub.impl import thing\n",
            "src/pkg/sub/impl.py": "from pkg.util import helper\nthing = helper\n",
            "src/pkg/sub/spare.py": "",
            "stages/run.py": "from pkg.sub import thing\n",
        },
    )
    assert closure_of(tmp_path) == {
        "src/pkg/__init__.py",
        "src/pkg/util.py",
        "src/pkg/sub/__init__.py",
        "src/pkg/sub/impl.py",
    }


def test_import_chain_is_a_shortest_path_to_the_file(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "src/pkg/__init__.py": "",
            "src/pkg/a.py": "import pkg.b\n",
            "src/pkg/b.py": "import pkg.c\n",
            "src/pkg/c.py": "",
            "src/pkg/lone.py": "",
            "stages/run.py": "import pkg.a\nimport pkg.b\n",
        },
    )
    roots = [tmp_path / "stages", tmp_path / "src"]
    chain = import_chain(tmp_path / "stages/run.py", tmp_path / "src/pkg/c.py", roots)
    assert [p.relative_to(tmp_path.resolve()).as_posix() for p in chain] == [
        "stages/run.py",
        "src/pkg/b.py",
        "src/pkg/c.py",
    ]
    assert import_chain(tmp_path / "stages/run.py", tmp_path / "src/pkg/lone.py", roots) == []


def test_relative_imports_resolve_against_the_package(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "src/pkg/__init__.py": "",
            "src/pkg/top.py": "",
            "src/pkg/sub/__init__.py": "from .leaf import f\n",  # anchored at pkg.sub itself
            "src/pkg/sub/leaf.py": "from . import sibling\nfrom ..top import T\n",
            "src/pkg/sub/sibling.py": "",
            "stages/run.py": "import pkg.sub\n",
        },
    )
    assert closure_of(tmp_path) == {
        "src/pkg/__init__.py",
        "src/pkg/top.py",
        "src/pkg/sub/__init__.py",
        "src/pkg/sub/leaf.py",
        "src/pkg/sub/sibling.py",
    }


def test_function_level_imports_count_and_type_checking_blocks_do_not(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "src/pkg/__init__.py": "",
            "src/pkg/lazy.py": "",
            "src/pkg/typed_only.py": "",
            "src/pkg/typed_too.py": "",
            "src/pkg/fallback.py": "",
            "src/pkg/main.py": """\
                import typing
                from typing import TYPE_CHECKING

                if TYPE_CHECKING:
                    from pkg.typed_only import A
                else:
                    from pkg import fallback
                if typing.TYPE_CHECKING:
                    import pkg.typed_too


                def run():
                    class Inner:
                        def go(self):
                            from pkg import lazy
                    return Inner
                """,
            "stages/run.py": "from pkg.main import run\n",
        },
    )
    assert closure_of(tmp_path) == {
        "src/pkg/__init__.py",
        "src/pkg/main.py",
        "src/pkg/lazy.py",
        "src/pkg/fallback.py",
    }


def test_registry_autoload_imports_every_public_submodule(tmp_path: Path) -> None:
    # as pkgutil.iter_modules: modules and subpackages, not _private ones; what they import
    # comes along; import_module with a literal counts as an import too.
    make_tree(
        tmp_path,
        {
            "src/pkg/__init__.py": "",
            "src/pkg/registry.py": "class Registry: ...\n",
            "src/pkg/helpers.py": "",
            "src/pkg/plugin.py": "",
            "src/pkg/losses/__init__.py": "",
            "src/pkg/losses/base.py": """\
                from pkg.registry import Registry

                LOSSES = Registry("loss", autoload="pkg.losses")
                """,
            "src/pkg/losses/alpha.py": "from pkg.losses.base import LOSSES\n",
            "src/pkg/losses/beta.py": "import pkg.helpers\n",
            "src/pkg/losses/_private.py": "",
            "src/pkg/losses/family/__init__.py": "",
            "src/pkg/losses/family/member.py": "",
            "src/pkg/loader.py": "import importlib\nimportlib.import_module('pkg.plugin')\n",
            "src/pkg/judges/__init__.py": "",
            "src/pkg/judges/base.py": """\
                from pkg.registry import Registry

                JUDGES = Registry[object]("judge", autoload=__package__)
                """,
            "src/pkg/judges/binary.py": "",
            "stages/run.py": "import pkg.losses.base\nimport pkg.loader, pkg.judges.base\n",
        },
    )
    assert closure_of(tmp_path) == {
        "src/pkg/__init__.py",
        "src/pkg/registry.py",
        "src/pkg/helpers.py",
        "src/pkg/losses/__init__.py",
        "src/pkg/losses/base.py",
        "src/pkg/losses/alpha.py",
        "src/pkg/losses/beta.py",
        "src/pkg/losses/family/__init__.py",
        "src/pkg/loader.py",
        "src/pkg/plugin.py",
        "src/pkg/judges/__init__.py",
        "src/pkg/judges/base.py",
        "src/pkg/judges/binary.py",
    }


def test_an_autoload_the_ast_cannot_follow_is_an_error(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "src/pkg/__init__.py": "",
            "src/pkg/reg.py": 'NAME = "pkg"\nR = Registry("x", autoload=NAME)\n',
            "stages/run.py": "import pkg.reg\n",
        },
    )
    with pytest.raises(ClosureError, match=r"reg\.py:2: autoload= must be a string literal"):
        closure_of(tmp_path)


def test_files_named_relative_to_a_module_are_deps(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "src/pkg/__init__.py": "",
            "src/pkg/style.css": "body {}\n",
            "src/pkg/templates/page.html": "<p>\n",
            "src/pkg/data.json": "{}\n",
            "src/pkg/render.py": """\
                import importlib.resources
                from pathlib import Path

                CSS = Path(__file__).with_name("style.css").read_text()
                TEMPLATES = Path(__file__).resolve().parent / "templates"
                DATA = importlib.resources.files("pkg") / "data.json"
                GONE = Path(__file__).with_name("missing.txt")
                """,
            "stages/run.py": "import pkg.render\n",
        },
    )
    assert closure_of(tmp_path) == {
        "src/pkg/__init__.py",
        "src/pkg/render.py",
        "src/pkg/style.css",
        "src/pkg/templates",
        "src/pkg/data.json",
    }


def test_modules_beside_the_script_are_found_first(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "src/pkg/__init__.py": "",
            "stages/_common.py": "import pkg\n",
            "stages/run.py": "import _common\n",
        },
    )
    assert closure_of(tmp_path) == {"stages/_common.py", "src/pkg/__init__.py"}


def test_an_import_of_a_missing_package_module_names_file_and_line(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "src/pkg/__init__.py": "",
            "src/pkg/a.py": "import os\n\nfrom pkg.nowhere import x\n",
            "stages/run.py": "import pkg.a\n",
        },
    )
    with pytest.raises(ClosureError, match=r"a\.py:3: imports 'pkg\.nowhere'"):
        closure_of(tmp_path)


# -- dvc.yaml ------------------------------------------------------------------------------------
def test_entry_point_of_a_cmd(tmp_path: Path) -> None:
    make_tree(tmp_path, {"src/pkg/__init__.py": "", "src/pkg/tool.py": ""})
    assert entry_point("python stages/train.py ${item.loss} ${item.regime}", tmp_path) == (
        "stages/train.py"
    )
    assert entry_point("python3 -u ./stages/x.py", tmp_path) == "stages/x.py"
    assert entry_point("python -m pkg.tool --flag", tmp_path) == "src/pkg/tool.py"
    assert entry_point("python -m pkg", tmp_path) == "src/pkg/__init__.py"
    assert entry_point("bash scripts/run.sh", tmp_path) is None


DVC_YAML = """\
# the DAG
stages:
  prep:                   # first
    cmd: python stages/prep.py
    deps:
      - data/raw
      - src/pkg
      - stages/prep.py
    outs:
      - data/prep

  train:                  # a matrix
    matrix:
      loss: ${losses}
      regime: [a, b]
    cmd: python stages/train.py ${item.loss} ${item.regime}
    deps:
      - stages/train.py
      - src/pkg/model.py
      - data/prep
    outs:
      - data/train/${item.loss}-${item.regime}

  table:
    foreach: ${schedules}
    do:
      cmd: python stages/table.py ${item}
      deps:
        - data/train     # every variant
      outs:
        - data/table/${item}
"""

PACKAGE = {
    "src/pkg/__init__.py": "",
    "src/pkg/io.py": "",
    "src/pkg/model.py": "from pkg import io\n",
    "src/pkg/report.py": "",
    "stages/prep.py": "import pkg.io\n",
    "stages/train.py": "from pkg.model import fit\n",
    "stages/table.py": "import pkg.report\n",
    "params.yaml": "losses: [l1, l2]\nschedules: [s]\n",
}


def test_check_lists_missing_and_extra_code_deps(tmp_path: Path) -> None:
    make_tree(tmp_path, {**PACKAGE, "dvc.yaml": DVC_YAML})
    result = {r.stage: r for r in check_dvcfile(tmp_path / "dvc.yaml")}
    assert result["prep"].missing == ["src/pkg/__init__.py", "src/pkg/io.py"]
    assert result["prep"].extra == ["src/pkg"]
    assert result["train"].missing == ["src/pkg/__init__.py", "src/pkg/io.py"]
    assert result["train"].extra == []
    assert result["table"].missing == [
        "stages/table.py",
        "src/pkg/__init__.py",
        "src/pkg/report.py",
    ]
    assert "prep: missing src/pkg/io.py (imported, not in deps)" in result["prep"].lines()


def test_write_sets_code_deps_first_and_keeps_comments_and_data_order(tmp_path: Path) -> None:
    make_tree(tmp_path, {**PACKAGE, "dvc.yaml": DVC_YAML})
    assert write_dvcfile(tmp_path / "dvc.yaml") == ["prep", "train", "table"]
    assert (tmp_path / "dvc.yaml").read_text() == DVC_YAML.replace(
        """\
      - data/raw
      - src/pkg
      - stages/prep.py
""",
        """\
      - stages/prep.py
      - src/pkg/__init__.py
      - src/pkg/io.py
      - data/raw
""",
    ).replace(
        """\
      - stages/train.py
      - src/pkg/model.py
""",
        """\
      - stages/train.py
      - src/pkg/__init__.py
      - src/pkg/io.py
      - src/pkg/model.py
""",
    ).replace(
        """\
      deps:
        - data/train     # every variant
""",
        """\
      deps:
        - stages/table.py
        - src/pkg/__init__.py
        - src/pkg/report.py
        - data/train     # every variant
""",
    )
    assert all(r.ok for r in check_dvcfile(tmp_path / "dvc.yaml"))
    assert write_dvcfile(tmp_path / "dvc.yaml") == []  # a second write changes nothing


def test_check_flags_deps_out_of_write_order(tmp_path: Path) -> None:
    make_tree(tmp_path, {**PACKAGE, "dvc.yaml": DVC_YAML})
    write_dvcfile(tmp_path / "dvc.yaml")
    text = (tmp_path / "dvc.yaml").read_text()
    swapped = text.replace(
        "      - src/pkg/__init__.py\n      - src/pkg/io.py\n      - data/raw\n",
        "      - src/pkg/io.py\n      - src/pkg/__init__.py\n      - data/raw\n",
    )
    assert swapped != text
    (tmp_path / "dvc.yaml").write_text(swapped)
    prep = check_dvcfile(tmp_path / "dvc.yaml")[0]
    assert (prep.missing, prep.extra, prep.reordered) == ([], [], True)


def test_variants_affected_files_and_downstream(tmp_path: Path) -> None:
    make_tree(tmp_path, {**PACKAGE, "dvc.yaml": DVC_YAML})
    write_dvcfile(tmp_path / "dvc.yaml")
    variants = expand(
        load_dvcfile(tmp_path / "dvc.yaml"), {"losses": ["l1", "l2"], "schedules": ["s"]}
    )
    names = ["prep", "train@l1-a", "train@l1-b", "train@l2-a", "train@l2-b", "table@s"]
    assert [v.name for v in variants] == names
    assert variants[2].outs == ("data/train/l1-b",)
    assert stages_listing(variants, "src/pkg/model.py") == names[1:5]
    assert stages_listing(variants, "src/pkg/report.py") == ["table@s"]
    assert stages_listing(variants, "data/raw/part-1.csv") == ["prep"]  # under a listed folder
    # data/table is below data/train (a folder dep covering each variant's output)
    assert downstream(variants, ["train@l1-a"]) == ["train@l1-a", "table@s"]
    assert downstream(variants, ["prep"]) == names


def test_cli_check_fails_then_write_fixes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    make_tree(tmp_path, {**PACKAGE, "dvc.yaml": DVC_YAML})
    dvcfile = str(tmp_path / "dvc.yaml")
    assert main(["dag", "deps", "--check", "--file", dvcfile]) == 1
    out = capsys.readouterr().out
    assert "prep: 2 missing, 1 extra" in out and "  extra src/pkg (in deps, not imported)" in out
    assert main(["dag", "deps", "--write", "--file", dvcfile]) == 0
    assert main(["dag", "deps", "--check", "--file", dvcfile]) == 0
    capsys.readouterr()
    assert main(["dag", "affected", "--file", dvcfile, str(tmp_path / "src/pkg/io.py")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("src/pkg/io.py: 5 stage(s) prep train@l1-a")
    assert main(["dag", "why", "train", str(tmp_path / "src/pkg/io.py"), "--file", dvcfile]) == 0
    assert capsys.readouterr().out.split() == [
        "stages/train.py",
        "imports",
        "src/pkg/model.py",
        "imports",
        "src/pkg/io.py",
    ]
    assert main(["dag", "why", "prep", "src/pkg/report.py", "--file", dvcfile]) == 1


# -- the repo itself ------------------------------------------------------------------------------
def test_repo_dvc_yaml_lists_exactly_what_each_stage_imports() -> None:
    problems = [line for r in check_dvcfile(REPO / "dvc.yaml") for line in r.lines()]
    assert not problems, "run `trustir dag deps --write`:\n" + "\n".join(problems)


def test_repo_check_names_stage_and_file_when_a_dep_is_dropped_or_added(tmp_path: Path) -> None:
    doc = (REPO / "dvc.yaml").read_text()
    first = next(iter(load_dvcfile(REPO / "dvc.yaml")["stages"]))
    stage = load_dvcfile(REPO / "dvc.yaml")["stages"][first]
    dropped = next(d for d in stage["deps"] if d.startswith("src/"))
    line = f"      - {dropped}\n"
    assert line in doc
    edited = doc.replace(line, "      - src/trustir/nothing_imports_this\n", 1)
    (tmp_path / "dvc.yaml").write_text(edited)
    problems = [ln for r in check_dvcfile(tmp_path / "dvc.yaml", root=REPO) for ln in r.lines()]
    assert problems == [
        f"{first}: missing {dropped} (imported, not in deps)",
        f"{first}: extra src/trustir/nothing_imports_this (in deps, not imported)",
    ]
