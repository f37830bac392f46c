"""The layers point one way (issue 12 part 4): src/ never imports flows/, and the areas of
``src/trustir`` import each other without cycles. Static (AST), so it runs in milliseconds."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from trustir.cli import main as cli_main

SRC = Path(__file__).resolve().parents[2] / "src" / "trustir"


def _imports(path: Path) -> list[tuple[str, int]]:
    """Absolute module names imported by ``path`` (outside ``if TYPE_CHECKING:``), with lines."""
    tree = ast.parse(path.read_text())
    skipped = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    rel = path.relative_to(SRC.parent).with_suffix("").parts
    package = list(rel[:-1])
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found += [(module, node.lineno)]
            found += [(f"{module}.{a.name}", node.lineno) for a in node.names]
    return found


def _area(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "trustir" or len(parts) < 2:
        return None
    name = parts[1]
    return name if (SRC / name).is_dir() or (SRC / f"{name}.py").is_file() else None


def area_graph() -> dict[str, set[str]]:
    """``{area: areas it imports}``; an area is a subpackage or a top-level module of trustir."""
    graph: dict[str, set[str]] = {}
    for f in SRC.rglob("*.py"):
        rel = f.relative_to(SRC)
        here = rel.parts[0].removesuffix(".py")
        for module, _line in _imports(f):
            there = _area(module)
            if there and there != here and here != "__init__":
                graph.setdefault(here, set()).add(there)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one area (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while (w := stack.pop()) != v:
                comp.append(w)
            comp.append(v)
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_cycle_finder_on_a_hand_made_graph():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a", "e"}, "e": {"d"}, "f": {"a"}}
    assert cycles(graph) == [["a", "b", "c"], ["d", "e"]]


def test_src_never_imports_flows_nor_edits_sys_path():
    offenders = []
    for f in SRC.rglob("*.py"):
        for module, line in _imports(f):
            if module == "flows" or module.startswith("flows."):
                offenders.append(f"{f.relative_to(SRC)}:{line} imports {module}")
        for node in ast.walk(ast.parse(f.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "path"
                and isinstance(node.value, ast.Name)
                and node.value.id == "sys"
            ):
                offenders.append(f"{f.relative_to(SRC)}:{node.lineno} touches sys.path")
    assert offenders == []


def test_evaluate_is_below_report():
    graph = area_graph()
    assert "report" not in graph.get("evaluate", set())
    assert "evaluate" in graph["report"]  # report tables are built from evaluate's measures


def test_no_package_cycle():
    graph = area_graph()
    assert cycles(graph) == []


def test_trustir_pipeline_runs_the_repo_flow_script(tmp_path, monkeypatch):
    """``trustir pipeline`` runs ``flows/pipeline.py`` of the repo as a process (stages and
    ``--force`` passed on, its exit status returned) instead of importing flows/."""
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    (tmp_path / "flows").mkdir()
    record = tmp_path / "argv.json"
    (tmp_path / "flows" / "pipeline.py").write_text(
        "import json, os, sys\n"
        f"open({str(record)!r}, 'w').write(json.dumps([os.getcwd(), sys.argv[1:]]))\n"
        "sys.exit(3)\n"
    )
    monkeypatch.chdir(tmp_path)
    assert cli_main(["pipeline", "index", "evaluate", "--force"]) == 3
    cwd, argv = json.loads(record.read_text())
    assert Path(cwd) == tmp_path.resolve() and argv == ["index", "evaluate", "--force"]


def test_trustir_pipeline_outside_a_repo_names_the_missing_script(tmp_path, monkeypatch, capsys):
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    monkeypatch.chdir(tmp_path)
    assert cli_main(["pipeline"]) == 1
    assert "flows/pipeline.py is missing" in capsys.readouterr().err
