"""What every stage script shares: params loading, the repo root, and clean failure messages."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from trustir.config import ParamsError, ParamsView, load_sections, read_params_file
from trustir.io.atomic import DiskFullError
from trustir.paths import repo_root
from trustir.section import Section

#: errors that are the user's input, not a bug: printed as one message, no traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (
    ParamsError,
    FileNotFoundError,
    ValueError,
    DiskFullError,
)
#: the exit status of a stage that failed on its input (a user error above): re-running it
#: cannot help, so the Prefect pipeline never retries it (any other failure may be transient).
BAD_INPUT_EXIT = 3


def user_error(*types: type[BaseException]) -> None:
    """Register more exception types reported as plain messages (e.g. ValidationFailed)."""
    global USER_ERRORS
    USER_ERRORS = (*USER_ERRORS, *types)


def stage(
    name: str, sections: Sequence[type[Section]] = ()
) -> Callable[[Callable[[Any, Path], None]], Callable[[], None]]:
    """Decorate ``main(params, root)`` of the stage ``name``.

    ``sections`` are the params section models the stage reads (``(DataParams, IndexParams)``):
    only they are validated, and ``params`` has only them as attributes (any other raises
    ``UndeclaredSection`` naming the stage and the section), so the stage imports no area whose
    params it does not read. On a user error it prints ``trustir <stage>: error: <message>`` and
    exits with :data:`BAD_INPUT_EXIT` (set TRUSTIR_DEBUG=1 for tracebacks).
    """

    def deco(fn: Callable[[Any, Path], None]) -> Callable[[], None]:
        @functools.wraps(fn)
        def main() -> None:
            root = repo_root()
            try:
                fn(stage_params(name, sections, root / "params.yaml"), root)
            except USER_ERRORS as exc:
                if os.environ.get("TRUSTIR_DEBUG"):
                    traceback.print_exc()
                print(f"trustir {name}: error: {exc}", file=sys.stderr)
                sys.exit(BAD_INPUT_EXIT)

        main.sections = tuple(sections)  # type: ignore[attr-defined]
        return main

    return deco


def stage_params(name: str, sections: Sequence[type[Section]], path: Path) -> ParamsView:
    """The declared ``sections`` of the params file at ``path``, validated, for stage ``name``."""
    return load_sections(read_params_file(path), sections, origin=path.name, stage=name)
