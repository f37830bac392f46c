"""Which failed stages the Prefect pipeline retries: DVC's "exited with N" read from stderr."""

from __future__ import annotations

import pytest

from flows.pipeline import Retries, StageFailed
from trustir.stage import BAD_INPUT_EXIT


@pytest.mark.parametrize(
    ("tail", "command_exit", "transient"),
    [
        (
            [
                "ERROR: failed to reproduce 'fetch': failed to run: python stages/fetch.py, "
                "exited with 3"
            ],
            3,
            False,
        ),
        (
            [
                "boom",
                "ERROR: failed to reproduce 's': failed to run: python -c 'x, y', exited with 1",
            ],
            1,
            True,
        ),
        (["ERROR: failed to reproduce 's': failed to run: sleep 9, exited with -9"], -9, True),
        (["ERROR: unexpected error - dvc.yaml is broken"], None, True),  # DVC itself: transient
    ],
)
def test_command_exit_decides_transient(
    tail: list[str], command_exit: int | None, transient: bool
) -> None:
    err = StageFailed("s", 255, tail)
    assert err.command_exit == command_exit and err.transient is transient
    assert BAD_INPUT_EXIT == 3


def test_retries_from_params_and_overrides(tmp_path) -> None:
    assert Retries.of(tmp_path) == Retries(0, 10.0)  # no params.yaml: the section's defaults
    (tmp_path / "params.yaml").write_text("scale:\n  retries: 4\n  retry_delay_s: 2.5\n")
    assert Retries.of(tmp_path) == Retries(4, 2.5)
    assert Retries.of(tmp_path, retries=0) == Retries(0, 2.5)
    (tmp_path / "params.yaml").write_text("scale:\n  retries: -1\n")
    with pytest.raises(ValueError, match="retries"):
        Retries.of(tmp_path)
