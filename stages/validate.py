"""Stage validate: Great Expectations suites on the fetched tables; bad data stops the DAG here.

The world's grades must lie in 0-3; a real collection's may use any integer scale, which the
report records (``grade_scale``) beside the count of documents with neither title nor text.
"""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.io.atomic import write_json
from trustir.sources.empty import empty_documents
from trustir.sources.params import DataParams
from trustir.stage import stage, user_error
from trustir.tables import read_tables
from trustir.validate import WORLD_GRADES, ValidationFailed, grade_scale, validate_tables

if TYPE_CHECKING:
    from trustir.params import Params

user_error(ValidationFailed)


@stage("validate", sections=(DataParams,))
def main(params: "Params", root: Path) -> None:
    tables = read_tables(root / "data/fetch")
    grades = WORLD_GRADES if params.data.source == "world" else None
    report = validate_tables(tables, grades=grades)
    scale = grade_scale(tables["qrels"]) if "qrels" in tables else {}
    empty = empty_documents(tables["corpus"]).height if "corpus" in tables else 0
    write_json(
        {**report, "grade_scale": scale, "empty_documents": empty},
        root / "data/validate/report.json",
    )
    print(f"validate: {sum(len(r) for r in report.values())} expectations passed")
    for source, found in scale.items():
        print(f"validate: {source} grades {found['min']}..{found['max']} ({found['grades']})")


if __name__ == "__main__":
    main()
