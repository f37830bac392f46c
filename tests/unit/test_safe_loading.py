"""Weights load from safetensors only (issue 19): every ``*Model*.from_pretrained`` call in the
code passes ``use_safetensors=True``, and nothing unpickles (``torch.load``, ``pickle.load``,
``np.load(allow_pickle=True)``) a file trustir did not write. Read from the source with ``ast``;
each exception below carries its reason."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("src", "stages", "flows")
#: receivers of from_pretrained that load no weights.
NO_WEIGHTS = ("Tokenizer", "Processor", "Config", "FeatureExtractor")
#: (file, receiver) -> why it may load without use_safetensors=True.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("src/trustir/llm/models.py", "AutoModelForCausalLM"): (
        "reads the packaged SmolLM2 GGUF (gguf_file=...): GGUF is a plain tensor container, "
        "nothing is unpickled; the result is saved once as safetensors"
    ),
}
UNPICKLERS = {"torch.load", "pickle.load", "pickle.loads", "joblib.load", "dill.load"}


def calls() -> list[tuple[str, ast.Call]]:
    out = []
    for folder in SCANNED:
        for path in sorted((REPO / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            rel = path.relative_to(REPO).as_posix()
            out += [(rel, n) for n in ast.walk(tree) if isinstance(n, ast.Call)]
    return out


def keyword(call: ast.Call, name: str) -> object:
    for k in call.keywords:
        if k.arg == name and isinstance(k.value, ast.Constant):
            return k.value.value
    return None


def test_every_model_load_uses_safetensors() -> None:
    loads, offenders, used = 0, [], set()
    for rel, call in calls():
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "from_pretrained"):
            continue
        receiver = ast.unparse(func.value)
        if any(word in receiver for word in NO_WEIGHTS):
            continue
        loads += 1
        if keyword(call, "use_safetensors") is True:
            continue
        if (rel, receiver) in EXCEPTIONS:
            used.add((rel, receiver))
            continue
        offenders.append(f"{rel}:{call.lineno}: {receiver}.from_pretrained")
    assert loads >= 4  # the scan sees the real loaders (encoders, vision, llm)
    assert offenders == [], "from_pretrained without use_safetensors=True:\n" + "\n".join(offenders)
    assert used == set(EXCEPTIONS), f"stale exceptions: {set(EXCEPTIONS) - used}"


def test_nothing_is_unpickled() -> None:
    found = []
    for rel, call in calls():
        name = ast.unparse(call.func)
        if name in UNPICKLERS or (name.endswith("np.load") and keyword(call, "allow_pickle")):
            found.append(f"{rel}:{call.lineno}: {name}")
    assert found == []


def test_the_scan_catches_an_unsafe_load() -> None:
    """The checker itself: a from_pretrained without the flag is seen, one with it is not."""
    bad = ast.parse("AutoModel.from_pretrained(path)").body[0].value
    good = ast.parse("AutoModel.from_pretrained(path, use_safetensors=True)").body[0].value
    assert keyword(bad, "use_safetensors") is None and keyword(good, "use_safetensors") is True
