"""The README's "Adding a method" is true: its loss module, dropped into the losses package and
edited nowhere else, is a registered loss, a valid ``multipos.losses`` name, and keeps the
registry contract."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- example: adding a loss.*?-->\n```python\n(.*?)```\n<!-- end example -->",
                  text, re.S)  # fmt: skip
    assert m, "README.md lost its 'adding a loss' example"
    return m.group(1)


def test_readme_example_is_ten_lines_of_code() -> None:
    code = [ln for ln in readme_example().splitlines() if ln.strip() and not ln.startswith('"""')]
    assert len(code) <= 10


def test_a_new_loss_module_is_all_it_takes(tmp_path: Path) -> None:
    # the module goes into a folder that joins the losses package's path, as a file added to
    # src/trustir/retrieval/losses/ would; nothing else is edited or imported by hand
    (tmp_path / "minposlh.py").write_text(readme_example())
    script = textwrap.dedent(f"""
        import sys
        import trustir.retrieval.losses as pkg
        pkg.__path__.append({str(tmp_path)!r})
        sys.path.insert(0, {str(ROOT / "tests" / "unit")!r})

        from trustir.config import ParamsError
        from trustir.params import parse_params
        from trustir.retrieval.losses.base import LOSSES
        from test_registry_contract import check_loss

        params = parse_params({{"multipos": {{"losses": ["infonce", "minposlh"]}}}})
        assert params.multipos.losses == ["infonce", "minposlh"]
        assert "minposlh" in LOSSES.names() and LOSSES.get("minposlh").positives == "all"
        check_loss(LOSSES, "minposlh")  # finite, gradients, InfoNCE on one positive
        try:
            parse_params({{"multipos": {{"losses": ["minposlhh"]}}}})
        except ParamsError as exc:
            assert "unknown loss 'minposlhh'" in str(exc) and "minposlh," in str(exc), exc
        else:
            raise AssertionError("a misspelt loss name was accepted")
        print("ok")
    """)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-3000:]
