"""AuthorityBench (P1): authority ground truth, judged authority, authority-guided RAG filtering.

``pagerank`` (sparse power iteration, networkx's conventions), ``levels`` (quantile levels on a
5- or 10-point scale), ``sources`` (the benches: the mini-world's domains and entities, real domain
lists and real entity popularity), ``sample`` (items, easy/hard pairs and lists per bench),
``metrics`` (correlations, pair accuracy, costs), ``ragauth`` (yes/no RAG with documents filtered
by judged or true authority) and ``table`` (the paper's table through ``trustir.report``). The
LLM judges live in ``trustir.annotate.authority``. Importing this package does not import torch.
"""
