"""P4 MACE: calibration of LLM answers when questions have several correct answers (issue 14).

``metrics`` (ECE, adaptive ECE, Brier, AUROC), ``qa`` (the question sources and correctness),
``sampling`` (cached samples through the label store), ``methods`` (the confidence methods),
``clusters`` (semantic clusters of samples), ``report`` (the aggregating stage's tables).
"""
