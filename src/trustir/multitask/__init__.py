"""Multi-task embedding training, model merging and BOOM (PAPERS.md P5).

``schedules`` (shuffle / sequential / two_stage: every batch from one set), ``training`` (the P3
trainer over a schedule; bagged and incremental samples), ``data`` (task sets on disk),
``evaluate`` (a model on every task), ``boom`` (the table's rows), ``report`` (the table),
``params`` (the ``boom`` params section). Merging itself lives in ``trustir.merging``.
Nothing is imported here, so ``trustir.config`` can import ``params`` without torch.
"""
