"""Stage validate: Great Expectations suites on the fetched tables; bad data stops the DAG here."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.io.atomic import write_json
from trustir.stage import stage, user_error
from trustir.tables import read_tables
from trustir.validate import ValidationFailed, validate_tables

if TYPE_CHECKING:
    from trustir.params import Params

user_error(ValidationFailed)


@stage("validate")
def main(params: "Params", root: Path) -> None:
    report = validate_tables(read_tables(root / "data/fetch"))
    write_json(report, root / "data/validate/report.json")
    print(f"validate: {sum(len(r) for r in report.values())} expectations passed")


if __name__ == "__main__":
    main()
