"""LLM annotation: judges (each owning its template and parser), candidate pooling, agreement.

Issue 3. Relevance judges register in ``base.JUDGES`` from their modules in ``judges/``
(``base.get_judge(name)``); ``run.judge_pairs`` labels (query, document) pairs through the LLM
layer's content-addressed label store, so only missing labels cost calls. Authority judges (P1)
are ``authority.AUTHORITY_JUDGES``.
"""
