"""The DAG's code deps from the code itself: a stage's deps are the files its script imports.

``imports`` works out the static import closure of a script (AST, file level); ``dvcfile``
compares it with each stage's deps in ``dvc.yaml``, rewrites them, and tells which stages list
a file (``trustir dag deps --check|--write``, ``trustir dag affected FILE...``).
"""
