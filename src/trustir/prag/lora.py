"""One LoRA per document (PRAG, P9): training examples, the seeded start, and two trainers.

A document trains on its text and rewrites (next-token loss over every token) and on its QA
pairs (the answer tokens after the chat-rendered answer prompt, the prompt the parametric mode
asks at inference), one example per step, in that order, for ``epochs`` (AdamW, lr 3e-4).
Every adapter starts from the same seeded state (lora_A ~ U(-1/sqrt(in), 1/sqrt(in)) — peft's
kaiming-uniform bound — from a seed derived from the adapter key; lora_B = 0), so the two
trainers can be compared weight for weight:

- ``iter_plain``: one peft model, one document at a time (the reference loop);
- ``iter_batched``: the documents of a group (same example count) in one forward, row ``i``
  holding document ``i``'s current example and using document ``i``'s own LoRA: the A/B weights
  are stacked ``[N, r, in]`` / ``[N, out, r]`` and applied by forward hooks with ``bmm``. The
  loss is the sum of the rows' mean token losses, so each document's gradient is its own, and
  AdamW is elementwise, so each slice follows the plain loop's trajectory (up to float noise
  from padding).

Both yield each adapter as it finishes, so the caller stores it at once (a kill mid-way loses
only the document or group in flight); ``train_plain`` / ``train_batched`` collect them in job
order. Stored tensors use peft's names (``base_model.model.<module>.lora_A.weight``), so
``set_peft_model_state_dict`` loads either trainer's adapters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from trustir.prag.params import LoraParams

IGNORE = -100


@dataclass
class Example:
    """One training sequence: token ids and labels (``IGNORE`` where no loss is taken)."""

    ids: list[int]
    labels: list[int]


def lora_config_dict(lp: LoraParams) -> dict[str, Any]:
    """What enters the adapter key (every training knob, none of the batching)."""
    d = lp.model_dump()
    d.pop("batch_docs")
    return d


def peft_config(lp: LoraParams) -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=lp.r, lora_alpha=lp.alpha, target_modules=list(lp.target_modules), lora_dropout=0.0,
        bias="none",
    )  # fmt: skip


def doc_examples(
    base: Any, title: str, text: str, rewrites: Sequence[str], pairs: Sequence[tuple[str, str]],
    max_length: int,
) -> list[Example]:  # fmt: skip
    """The document's examples: its text, its rewrites, then its QA pairs (answer-only loss)."""
    from trustir.calibration.prompts import answer_prompt

    tok = base.tokenizer
    out = []
    for passage in [f"{title}. {text}".strip(". "), *rewrites]:
        ids = tok.encode(passage, add_special_tokens=False)[:max_length]
        out.append(Example(ids, list(ids)))
    eot = tok.encode("<|im_end|>", add_special_tokens=False) if tok.chat_template else []
    for q, a in pairs:
        prompt = base.render(answer_prompt(q, []))
        ans = tok.encode(a, add_special_tokens=False) + eot
        ids = (prompt + ans)[-max_length:]
        n_ans = min(len(ans), len(ids))
        out.append(Example(ids, [IGNORE] * (len(ids) - n_ans) + ids[-n_ans:]))
    return out


def target_modules(model: torch.nn.Module, names: Sequence[str]) -> list[tuple[str, Any]]:
    """(qualified name, Linear) of every module whose last name part is in ``names``."""
    found = [
        (n, m) for n, m in model.named_modules()
        if n.rsplit(".", 1)[-1] in names and isinstance(m, torch.nn.Linear)
    ]  # fmt: skip
    if not found:
        raise ValueError(f"prag.lora.target_modules {list(names)}: no such Linear in the model")
    return found


def initial_state(
    modules: Sequence[tuple[str, Any]], r: int, key: str, seed: int
) -> dict[str, torch.Tensor]:
    """The seeded start of one adapter, in peft's names (A uniform, B zero)."""
    g = torch.Generator().manual_seed(
        int(hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()[:15], 16)
    )
    state = {}
    for name, lin in modules:
        bound = 1.0 / lin.in_features**0.5
        a = torch.rand((r, lin.in_features), generator=g, dtype=torch.float32) * 2 - 1
        state[f"base_model.model.{name}.lora_A.weight"] = a * bound  # [r, in]
        state[f"base_model.model.{name}.lora_B.weight"] = torch.zeros(lin.out_features, r)
    return state


def _token_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-row mean next-token loss: logits [N, T, V], labels [N, T] -> [N].

    The vocabulary stays the last, contiguous dim: torch's class-dim-1 layout
    (``logits.transpose(1, 2)``) sums a 49k vocabulary in float32 with 1e-4 absolute error in
    the loss and ~1% in the LoRA gradients (measured on SmolLM2 against float64).
    """
    n, t, v = logits.shape
    lp = torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, v).float(),  # [N*(T-1), V]
        labels[:, 1:].reshape(-1),
        ignore_index=IGNORE,
        reduction="none",
    ).view(n, t - 1)  # [N, T-1]
    mask = (labels[:, 1:] != IGNORE).float()  # [N, T-1]
    return (lp * mask).sum(1) / mask.sum(1).clamp(min=1)


@dataclass
class Trained:
    """One trained adapter: its tensors (peft names) and its mean training loss."""

    tensors: dict[str, torch.Tensor]
    loss: float


def iter_plain(
    model: torch.nn.Module, lp: LoraParams, jobs: Sequence[tuple[str, list[Example]]],
    pad_id: int = 0,
) -> Iterator[tuple[int, Trained]]:  # fmt: skip
    """Train each (key, examples) job's adapter in turn on one peft model (reference loop);
    yield (job index, adapter) as each finishes. ``pad_id`` is unused (no padding here)."""
    from peft import get_peft_model, set_peft_model_state_dict
    from peft.utils import get_peft_model_state_dict

    modules = target_modules(model, lp.target_modules)  # before peft wraps them
    pm = get_peft_model(model, peft_config(lp), adapter_name="doc")
    pm.eval()  # no dropout anywhere: the loss is a deterministic function of the weights
    try:
        for i, (key, examples) in enumerate(jobs):
            set_peft_model_state_dict(pm, initial_state(modules, lp.r, key, lp.seed), "doc")
            params = [p for n, p in pm.named_parameters() if "lora_" in n]
            for p in params:
                p.requires_grad_(True)
            opt = torch.optim.AdamW(params, lr=lp.lr, weight_decay=lp.weight_decay)
            losses = []
            for _ in range(lp.epochs):
                for ex in examples:
                    ids = torch.tensor([ex.ids])  # [1, T]
                    loss = _token_loss(pm(input_ids=ids).logits, torch.tensor([ex.labels]))[0]
                    loss.backward()
                    opt.step()
                    opt.zero_grad(set_to_none=True)
                    losses.append(float(loss.detach()))
            sd = get_peft_model_state_dict(pm, adapter_name="doc")
            yield i, Trained({n: t.detach().clone() for n, t in sd.items()}, _mean(losses))
    finally:
        pm.unload()  # the base model without LoRA layers, for the next caller


def _mean(xs: Sequence[float]) -> float:
    return float(sum(xs) / len(xs)) if xs else float("nan")


class StackedLora:
    """N adapters on one model: forward hooks add ``scale * x A_i^T B_i^T`` to row i."""

    def __init__(self, model: torch.nn.Module, lp: LoraParams, states: Sequence[dict]) -> None:
        self.modules = target_modules(model, lp.target_modules)
        self.scale = lp.alpha / lp.r
        self.A: dict[str, torch.nn.Parameter] = {}
        self.B: dict[str, torch.nn.Parameter] = {}
        self.handles = []
        for name, lin in self.modules:
            a = torch.stack([s[f"base_model.model.{name}.lora_A.weight"] for s in states])
            b = torch.stack([s[f"base_model.model.{name}.lora_B.weight"] for s in states])
            self.A[name] = torch.nn.Parameter(a.clone())  # [N, r, in]
            self.B[name] = torch.nn.Parameter(b.clone())  # [N, out, r]
            self.handles.append(lin.register_forward_hook(self._hook(name)))

    def _hook(self, name: str):
        def hook(_mod: Any, inputs: tuple[torch.Tensor, ...], out: torch.Tensor) -> torch.Tensor:
            x = inputs[0]  # [N, T, in]
            low = torch.bmm(x, self.A[name].transpose(1, 2))  # [N, T, r]
            return out + self.scale * torch.bmm(low, self.B[name].transpose(1, 2))  # [N, T, out]

        return hook

    def parameters(self) -> list[torch.nn.Parameter]:
        return [*self.A.values(), *self.B.values()]

    def state(self, i: int) -> dict[str, torch.Tensor]:
        out = {}
        for name, _ in self.modules:
            out[f"base_model.model.{name}.lora_A.weight"] = self.A[name][i].detach().clone()
            out[f"base_model.model.{name}.lora_B.weight"] = self.B[name][i].detach().clone()
        return out

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def _labelled_loss(
    model: Any, ids: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """Per-row mean next-token loss ``[N]``, the LM head applied only where a label is (a QA
    example's prompt positions and the padding skip the vocabulary projection)."""
    hidden = model.base_model(input_ids=ids, attention_mask=mask).last_hidden_state  # [N, T, H]
    target = labels[:, 1:]  # [N, T-1]
    keep = target != IGNORE  # [N, T-1]
    logits = model.get_output_embeddings()(hidden[:, :-1][keep])  # [M, V]
    tok = torch.nn.functional.cross_entropy(logits.float(), target[keep], reduction="none")  # [M]
    rows = torch.arange(len(ids)).unsqueeze(1).expand_as(target)[keep]  # [M]
    total = torch.zeros(len(ids), dtype=tok.dtype).index_add(0, rows, tok)  # [N]
    return total / keep.sum(1).clamp(min=1)


def _pad(examples: Sequence[Example], pad: int) -> tuple[torch.Tensor, ...]:
    """Right-padded ids, attention mask and labels ``[N, T]`` of one step's examples."""
    width = max(len(e.ids) for e in examples)
    ids = torch.full((len(examples), width), pad, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    for i, e in enumerate(examples):
        ids[i, : len(e.ids)] = torch.tensor(e.ids)
        mask[i, : len(e.ids)] = 1
        labels[i, : len(e.ids)] = torch.tensor(e.labels)
    return ids, mask, labels


def iter_batched(
    model: torch.nn.Module, lp: LoraParams, jobs: Sequence[tuple[str, list[Example]]],
    pad_id: int = 0,
) -> Iterator[tuple[int, Trained]]:  # fmt: skip
    """Train the jobs' adapters ``lp.batch_docs`` at a time, one document per batch row; yield
    (job index, adapter) for each document of a group as the group finishes."""
    model.eval()
    modules = target_modules(model, lp.target_modules)
    # group equal step counts; within a count, similar lengths (less padding per step)
    order = sorted(range(len(jobs)), key=lambda i: (len(jobs[i][1]), _width(jobs[i][1])))
    groups: list[list[int]] = []
    for i in order:
        if groups and len(jobs[groups[-1][0]][1]) == len(jobs[i][1]) and \
                len(groups[-1]) < lp.batch_docs:  # fmt: skip
            groups[-1].append(i)
        else:
            groups.append([i])
    for group in groups:
        states = [initial_state(modules, lp.r, jobs[i][0], lp.seed) for i in group]
        stack = StackedLora(model, lp, states)
        opt = torch.optim.AdamW(stack.parameters(), lr=lp.lr, weight_decay=lp.weight_decay)
        losses: list[list[float]] = [[] for _ in group]
        try:
            for _ in range(lp.epochs):
                for step in range(len(jobs[group[0]][1])):
                    ids, mask, labels = _pad([jobs[i][1][step] for i in group], pad_id)
                    rows = _labelled_loss(model, ids, mask, labels)  # [N]
                    rows.sum().backward()
                    opt.step()
                    opt.zero_grad(set_to_none=True)
                    for j, v in enumerate(rows.tolist()):
                        losses[j].append(v)
        finally:
            stack.remove()
        for j, i in enumerate(group):
            yield i, Trained(stack.state(j), _mean(losses[j]))


def _width(examples: Sequence[Example]) -> int:
    return sum(len(e.ids) for e in examples)


#: ``prag.lora.trainer`` -> an iterator of (job index, adapter) in the order they finish
TRAINERS = {"plain": iter_plain, "batched": iter_batched}


def train_plain(
    model: torch.nn.Module, lp: LoraParams, jobs: Sequence[tuple[str, list[Example]]]
) -> list[Trained]:
    """Every job's adapter from the reference loop, in job order."""
    return _in_order(iter_plain(model, lp, jobs), len(jobs))


def train_batched(
    model: torch.nn.Module, lp: LoraParams, jobs: Sequence[tuple[str, list[Example]]],
    pad_id: int = 0,
) -> list[Trained]:  # fmt: skip
    """Every job's adapter from the batched trainer, in job order."""
    return _in_order(iter_batched(model, lp, jobs, pad_id), len(jobs))


def _in_order(done: Iterator[tuple[int, Trained]], n: int) -> list[Trained]:
    out = dict(done)
    return [out[i] for i in range(n)]
