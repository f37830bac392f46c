"""What every stage script shares: params loading, the repo root, and clean failure messages."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from trustir.config import Params, ParamsError, load_params
from trustir.paths import repo_root

#: errors that are the user's input, not a bug: printed as one message, no traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (ParamsError, FileNotFoundError, ValueError)


def user_error(*types: type[BaseException]) -> None:
    """Register more exception types reported as plain messages (e.g. ValidationFailed)."""
    global USER_ERRORS
    USER_ERRORS = (*USER_ERRORS, *types)


def stage(name: str) -> Callable[[Callable[[Params, Path], None]], Callable[[], None]]:
    """Decorate ``main(params, root)``: load params.yaml from the repo root, run, and on a user
    error print ``trustir <stage>: <message>`` and exit 1 (set TRUSTIR_DEBUG=1 for tracebacks)."""

    def deco(fn: Callable[[Params, Path], None]) -> Callable[[], None]:
        @functools.wraps(fn)
        def main() -> None:
            root = repo_root()
            try:
                fn(load_params(root / "params.yaml"), root)
            except USER_ERRORS as exc:
                if os.environ.get("TRUSTIR_DEBUG"):
                    traceback.print_exc()
                print(f"trustir {name}: error: {exc}", file=sys.stderr)
                sys.exit(1)

        return main

    return deco
