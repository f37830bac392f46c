"""Learning to rank from clicks vs LLM labels (P8): the query log's click models, features,
rankers (LambdaMART, an MLP with listwise losses), supervision schedules and FAMOL, frequency
buckets.

Modules: ``params`` (the ``ltr`` section), ``buckets``, ``clickmodels/`` (one per model),
``features`` (every feature, documented in one place), ``rankers/`` (one per ranker),
``supervision`` (click, llm, both schedules, FAMOL), ``labels`` (LLM labels over the buckets),
``clicklog`` (the clicks stage's work), ``experiment`` (the ltr stage's work), ``report``.
"""
