"""``trustir.versions`` without Prefect: dvc.lock reading, the change decision, ``-S`` params,
the before/after tables (hand-built lock dicts; real git and DVC in tiny repos under tmp_path)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from trustir.versions.before_after import comparison_markdown, comparison_table, delta, flatten, fmt
from trustir.versions.decision import (
    Decision,
    annotation_changes,
    config_changes,
    dep_changes,
    status_lines,
    upstream_param_changes,
)
from trustir.versions.overrides import (
    MISSING,
    overridden_params,
    param_at,
    redacted_args,
    shown,
    value_changes,
)
from trustir.versions.repo import (
    LockEntry,
    exp_run_command,
    experiment_rev,
    git,
    git_show,
    lock_entries,
    metrics_at,
    upstream,
)

GIT_ID = ["-c", "user.name=trustir tests", "-c", "user.email=tests@trustir.invalid"]

#: a dvc.lock as DVC 3 writes it: fetch -> index -> annotate; report reads annotate's metrics.
LOCK = {
    "schema": "2.0",
    "stages": {
        "fetch": {
            "cmd": "python stages/fetch.py",
            "deps": [{"path": "stages/fetch.py", "md5": "f1"}],
            "params": {"params.yaml": {"data": {"source": "world", "scale": 0.3}}},
            "outs": [{"path": "data/fetch", "md5": "fe.dir"}],
        },
        "index": {
            "deps": [{"path": "data/fetch", "md5": "fe.dir"}],
            "params": {"params.yaml": {"index.depth": 100}},
            "outs": [{"path": "data/index", "md5": "ix.dir"}],
        },
        "validate": {
            "deps": [{"path": "data/fetch/corpus.parquet", "md5": "co"}],
            "outs": [{"path": "data/validate", "md5": "va.dir"}],
        },
        "annotate": {
            "deps": [
                {"path": "data/fetch", "md5": "fe.dir"},
                {"path": "data/index/bm25.run.parquet", "hash": "md5", "md5": "r1"},
                {"path": "src/trustir/annotate", "md5": "an.dir"},
            ],
            "params": {
                "params.yaml": {
                    "llm": {"model": "smollm2", "api_key": "sk-1"},
                    "annotate": {"max_queries": 6},
                    "evaluate.min_rel": None,
                },
            },
            "outs": [{"path": "data/annotate", "md5": "la.dir"}],
        },
        "report": {"deps": [{"path": "data/annotate", "md5": "la.dir"}], "outs": []},
    },
}


def entries() -> dict[str, LockEntry]:
    return lock_entries(yaml.safe_dump(LOCK, sort_keys=False))


# ------------------------------------------------------------------------ dvc.lock


def test_lock_entries_flatten_params_files_and_read_hashes():
    e = entries()
    assert list(e) == ["fetch", "index", "validate", "annotate", "report"]
    a = e["annotate"]
    assert a.params == {
        "llm": {"model": "smollm2", "api_key": "sk-1"},
        "annotate": {"max_queries": 6},
        "evaluate.min_rel": None,
    }
    assert a.deps == {
        "data/fetch": "fe.dir",
        "data/index/bm25.run.parquet": "r1",  # md5 before the "hash" field's algorithm name
        "src/trustir/annotate": "an.dir",
    }
    assert a.outs == ("data/annotate",) and e["report"].outs == ()
    assert lock_entries(None) == {} and lock_entries("") == {} and lock_entries("stages:\n") == {}


def test_upstream_follows_outs_into_deps_transitively_in_lock_order():
    e = entries()
    # annotate reads data/fetch and a file inside data/index; validate feeds nobody it reads
    assert upstream(e, "annotate") == ["fetch", "index"]
    assert upstream(e, "report") == ["fetch", "index", "annotate"]
    assert upstream(e, "validate") == ["fetch"]  # data/fetch/corpus.parquet is under data/fetch
    assert upstream(e, "fetch") == []


# ------------------------------------------------------------------------ the decision's parts


def test_config_changes_one_line_per_changed_leaf_secrets_hidden():
    base = entries()["annotate"]
    target = {
        "llm": {"model": "other", "api_key": "sk-2", "temperature": 0.5},
        "annotate": {"max_queries": 6},
        "evaluate": {"min_rel": 0},
    }
    assert config_changes(base, target) == [
        "llm.model: smollm2 -> other",
        "llm.api_key: *** -> ***",
        "llm.temperature: (absent) -> 0.5",
        "evaluate.min_rel: null -> 0",  # 0 is a value, not "unset"
    ]
    same = {
        "llm": base.params["llm"],
        "annotate": {"max_queries": 6},
        "evaluate": {"min_rel": None},
    }
    assert config_changes(base, same) == []


def test_dep_changes_compare_the_workspace_lock_with_heads():
    base = entries()["annotate"]
    now = LockEntry({}, {**base.deps, "data/fetch": "fe2-new.dir"}, base.outs)
    assert dep_changes(base, now) == ["data/fetch changed since HEAD (fe.dir -> fe2-new.)"]
    assert dep_changes(base, base) == []
    assert len(dep_changes(base, None)) == 3  # no annotate in the workspace's lock: all changed


def test_upstream_param_changes_only_of_stages_feeding_annotate():
    e = entries()
    current = {"data": {"source": "world", "scale": 0.3}, "index": {"depth": 100}}
    target = {"data": {"source": "world", "scale": 1.0}, "index": {"depth": 100}}
    assert upstream_param_changes(e, current, target) == ["fetch: data.scale: 0.3 -> 1.0"]
    assert upstream_param_changes(e, current, current) == []
    assert upstream_param_changes({}, current, target) == []


def test_status_lines_of_dvc_status_json():
    status = {
        "annotate": [
            {"changed deps": {"src/trustir/annotate": "modified", "params.yaml": {"llm": "mod"}}},
            "always changed",
        ],
        "fetch": [{"changed outs": {"data/fetch": "deleted"}}],
    }
    assert status_lines(status) == [
        "annotate: changed deps src/trustir/annotate (modified), llm (mod)",
        "annotate: always changed",
        "fetch: changed outs data/fetch (deleted)",
    ]
    assert status_lines({}) == []


def test_decision_needed_and_its_messages():
    assert not Decision([]).needed
    assert Decision(["x"]).needed
    dup = Decision(["x"], duplicate_of="exp1")
    assert not dup.needed and dup.message() == (
        "nothing to re-annotate: experiment 'exp1' already has these inputs"
    )
    assert Decision([]).message().endswith("unchanged since HEAD")


# ------------------------------------------------------------------------ -S params (DVC's parser)

PARAMS = """\
annotate:
  max_queries: 2
  runs: [bm25]
llm:
  model: toy  # a comment
  temperature: 0.0
evaluate:
  min_rel: null
"""


@pytest.fixture
def params_repo(tmp_path: Path) -> Path:
    (tmp_path / "params.yaml").write_text(PARAMS)
    return tmp_path


@pytest.mark.parametrize(
    ("override", "key", "value"),
    [
        ("annotate.max_queries=3", "annotate.max_queries", 3),
        ("llm.model=other", "llm.model", "other"),
        ("llm.model='3'", "llm.model", "3"),  # quoted: a string
        ("llm.temperature=1e-3", "llm.temperature", 0.001),
        ("evaluate.min_rel=0", "evaluate.min_rel", 0),
        ("annotate.runs=[bm25,dense]", "annotate.runs", ["bm25", "dense"]),
        ("+annotate.new=1", "annotate.new", 1),  # "+" adds a key
        ("params.yaml:llm.model=x", "llm.model", "x"),
    ],
)
def test_overrides_as_dvc_exp_run_applies_them(params_repo, override, key, value):
    """Pins ``dvc.utils.hydra.apply_overrides`` (internal, no public API: see overridden_params)."""
    out = overridden_params(params_repo, [override])
    assert param_at(out, key) == value
    assert param_at(out, "annotate.max_queries") == (3 if "max_queries" in override else 2)
    assert (params_repo / "params.yaml").read_text() == PARAMS  # the workspace is not touched


def test_overrides_refuse_unknown_keys_grids_and_other_files(params_repo):
    from dvc.exceptions import InvalidArgumentError

    with pytest.raises(InvalidArgumentError):  # a typo is not silently added
        overridden_params(params_repo, ["annotate.nope=1"])
    with pytest.raises(InvalidArgumentError):  # `a=1,2` is a grid (many experiments), not one
        overridden_params(params_repo, ["annotate.max_queries=1,2"])
    with pytest.raises(ValueError, match="only params.yaml keys"):
        overridden_params(params_repo, ["other.yaml:a=1"])
    with pytest.raises(ValueError, match="is not key=value"):
        overridden_params(params_repo, ["annotate.max_queries"])
    assert overridden_params(params_repo) == yaml.safe_load(PARAMS)


def test_param_at_and_value_changes():
    tree = {"a": {"b": {"c": 1}}, "n": None}
    assert param_at(tree, "a.b.c") == 1 and param_at(tree, "n") is None
    assert param_at(tree, "a.x") is MISSING and param_at(tree, "a.b.c.d") is MISSING
    assert value_changes("a", {"b": 1, "c": 2}, {"b": 1, "d": 3}) == [
        "a.c: 2 -> (absent)",
        "a.d: (absent) -> 3",
    ]
    assert value_changes("k", "x" * 80, "y")[0] == f"k: {'x' * 57}... -> y"


def test_secrets_are_never_shown():
    assert shown("llm.api_key_env", "OPENAI_API_KEY") == "OPENAI_API_KEY"  # a name: shown
    assert shown("llm.api_key", "sk-live-123") == "***" and shown("x.token", "t0k") == "***"
    assert shown("llm.api_key", None) == "null"
    cmd = exp_run_command(["llm.api_key=sk-live-123", "annotate.max_queries=8"], "e")
    assert cmd == ["dvc", "exp", "run", "-S", "llm.api_key=sk-live-123"] + [
        "-S",
        "annotate.max_queries=8",
        "-n",
        "e",
    ]
    assert "sk-live-123" not in " ".join(redacted_args(cmd))
    assert "annotate.max_queries=8" in redacted_args(cmd)


# ------------------------------------------------------------------------ before/after tables


def test_delta_and_cells():
    assert delta(36, 12) == "-24" and delta(0.5, 0.75) == "+0.2500" and delta(3, 3) == "0"
    assert delta(None, 1.0) == "–" and delta(float("nan"), 1.0) == "–" and delta(True, 2) == "–"
    assert fmt(None) == "–" and fmt(float("nan")) == "–" and fmt(0.12345) == "0.1235"
    assert fmt(MISSING) == "–" and fmt(7) == "7"
    assert flatten({"run": {"llm_calls": 3}, "x": 1}) == {"run.llm_calls": 3, "x": 1}


def test_comparison_table_keeps_before_order_then_new_rows():
    md = comparison_table("m.json", {"b": 1, "a": 2.0}, {"a": 2.5, "c": 1})
    assert md.splitlines()[4:] == [
        "| b | 1 | – | – |",
        "| a | 2.0000 | 2.5000 | +0.5000 |",
        "| c | – | 1 | – |",
    ]


def test_comparison_markdown_has_before_after_delta():
    before = {"metrics/annotate.json": {"run": {"llm_calls": 36, "cache_hits": 0}}}
    after = {
        "metrics/annotate.json": {"run": {"llm_calls": 12, "cache_hits": 36}},
        "metrics/new.json": {"bm25": {"nDCG@10": 0.5}},
    }
    md = comparison_markdown(
        "exp1", before, after, ["annotate.max_queries: 6 -> 8"], ("a" * 40,) * 2
    )
    assert "| run.llm_calls | 36 | 12 | -24 |" in md and "| run.cache_hits | 0 | 36 | +36 |" in md
    assert "| bm25.nDCG@10 | – | 0.5000 | – |" in md  # a metrics file only the experiment has
    assert "- annotate.max_queries: 6 -> 8" in md and "dvc exp diff HEAD exp1" in md
    assert "- forced" in comparison_markdown("e", {}, {}, [], ("b" * 40,) * 2)


# ------------------------------------------------------------------------ real git


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, *GIT_ID, "-c", "commit.gpgsign=false", "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    return tmp_path


def test_metrics_at_and_git_show_read_each_revision(git_repo: Path):
    (git_repo / "metrics").mkdir()
    (git_repo / "metrics/annotate.json").write_text('{"run": {"llm_calls": 3}}')
    (git_repo / "metrics/notes.txt").write_text("not a metrics file")
    first = commit_all(git_repo, "one")
    (git_repo / "metrics/annotate.json").write_text('{"run": {"llm_calls": 5}}')
    (git_repo / "metrics/retrieval.json").write_text('{"bm25": {"nDCG@10": NaN}}')
    second = commit_all(git_repo, "two")
    assert metrics_at(git_repo, first) == {"metrics/annotate.json": {"run": {"llm_calls": 3}}}
    later = metrics_at(git_repo, second)
    assert list(later) == ["metrics/annotate.json", "metrics/retrieval.json"]
    assert later["metrics/annotate.json"]["run"]["llm_calls"] == 5
    assert git_show(git_repo, first, "metrics/retrieval.json") is None
    assert git_show(git_repo, second, "dvc.lock") is None


def test_experiment_rev_reads_dvcs_ref_of_head(git_repo: Path):
    (git_repo / "a.txt").write_text("a")
    head = commit_all(git_repo, "base")
    (git_repo / "a.txt").write_text("b")
    exp = commit_all(git_repo, "the experiment's commit")
    git(git_repo, "reset", "-q", "--hard", head)
    git(git_repo, "update-ref", f"refs/exps/{head[:2]}/{head[2:]}/more-queries", exp)
    assert experiment_rev(git_repo, "more-queries") == exp
    with pytest.raises(RuntimeError, match="rev-parse"):
        experiment_rev(git_repo, "no-such-experiment")


# ------------------------------------------------------------------------ real DVC: the decision

TOY_DVC_YAML = """\
stages:
  fetch:
    cmd: python fetch.py
    deps:
      - fetch.py
    params:
      - data
    outs:
      - queries.txt
  annotate:
    cmd: python annotate.py
    deps:
      - annotate.py
      - queries.txt
    params:
      - llm
      - annotate
      - evaluate.min_rel
    outs:
      - labels.txt
"""
TOY_SCRIPTS = {
    "fetch.py": "import yaml\n"
    "n = yaml.safe_load(open('params.yaml'))['data']['n']\n"
    "open('queries.txt', 'w').write(' '.join(f'q{i}' for i in range(n)))\n",
    "annotate.py": "open('labels.txt', 'w').write(open('queries.txt').read())\n",
}
TOY_PARAMS = """\
data:
  n: 3
llm:
  model: toy
annotate:
  max_queries: 2
evaluate:
  min_rel: null
  k: 10
"""


@pytest.fixture(scope="module")
def toy_dvc_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """fetch -> annotate, reproduced and committed (real git, real ``dvc``; seconds)."""
    repo = tmp_path_factory.mktemp("toy-dvc")
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}

    def dvc(*args: str) -> None:
        subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, env=env, check=True)

    git(repo, "init", "-q")
    dvc("init", "-q")
    dvc("config", "core.analytics", "false")
    (repo / "dvc.yaml").write_text(TOY_DVC_YAML)
    (repo / "params.yaml").write_text(TOY_PARAMS)
    for name, text in TOY_SCRIPTS.items():
        (repo / name).write_text(text)
    dvc("repro", "-q")
    commit_all(repo, "toy run")
    return repo


def test_decision_on_a_committed_dvc_repo(toy_dvc_repo: Path):
    repo = toy_dvc_repo
    assert annotation_changes(repo).reasons == []
    assert annotation_changes(repo, ["annotate.max_queries=3"]).reasons == [
        "annotate.max_queries: 2 -> 3"
    ]
    assert annotation_changes(repo, ["evaluate.min_rel=0"]).reasons == [
        "evaluate.min_rel: null -> 0"
    ]
    assert annotation_changes(repo, ["data.n=5"]).reasons == ["fetch: data.n: 3 -> 5"]
    assert annotation_changes(repo, ["evaluate.k=5"]).reasons == []  # not an input of annotate
    (repo / "params.yaml").write_text(TOY_PARAMS.replace("model: toy", "model: toy2"))
    try:
        reasons = annotation_changes(repo).reasons
    finally:
        (repo / "params.yaml").write_text(TOY_PARAMS)
    assert reasons[0] == "llm.model: toy -> toy2"
    assert any(r.startswith("annotate: changed deps") and "llm" in r for r in reasons[1:])


def test_no_committed_run_is_a_reason(git_repo: Path):
    (git_repo / "params.yaml").write_text(TOY_PARAMS)
    commit_all(git_repo, "params only")
    assert annotation_changes(git_repo).reasons == [
        "no committed run of 'annotate' (HEAD:dvc.lock lacks it)"
    ]
