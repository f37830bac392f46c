"""Versions of a repo's results: what a DVC stage used at a commit (``dvc.lock``), the DVC
experiments of a commit, whether a stage's inputs changed since, and metrics before/after.

The scheduled re-annotation (``flows/reannotate.py``) is a thin Prefect wrapper around this
package: ``repo`` (git, ``dvc.lock``, experiments), ``overrides`` (``-S`` params, display),
``decision`` (what changed for ``annotate``), ``before_after`` (the comparison tables).
"""
