"""P9 Parametric RAG (PRAG): documents as LoRA modules, summed at inference (issue 15).

``data`` (questions, corpus, retrieved top-k, noise draws), ``generators/`` (the augmentation
prompts: rewrites and QA pairs, registered), ``augment`` (through the label store), ``lora``
(one LoRA per document with peft; the batched multi-adapter trainer), ``store`` (the adapter
store, outside DVC's outputs), ``infer`` (vanilla / textual / parametric / combined answers),
``metrics`` (EM, F1, contains), ``analysis`` (adapter cosines, bytes), ``report`` (the table).
"""
