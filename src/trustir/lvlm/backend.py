"""A Qwen2-VL model behind trustir's ``LLMBackend`` interface, so the label store's sampling
(``trustir.llm.sampling.sample_many``) caches every VLM reply as it caches the LLM's (P10).

A VLM prompt is text that starts with an image mark, ``<image:SHA256>\\n``, then the question:
the image's content hash enters the label key with the text, so a perturbed image (another
hash) is another key. The backend resolves the mark to a PIL image registered with
:meth:`VLMBackend.add_image`. Decoding is a plain loop over full forward passes (no KV cache:
the tiny model's sequences are ~30 tokens), greedy or sampled with one ``torch.Generator`` per
row seeded by that row's seed, so reply ``i`` depends on ``seeds[i]`` only; log-probs are the
model's own (before temperature), end-of-sequence excluded.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from trustir.llm.base import Generation, LLMBackend, Prompt, Usage, check_options, to_messages
from trustir.lvlm.perturb import image_sha
from trustir.vision.model import IMAGE_PAD, VISION_END, VISION_START, VLM

_MARK = re.compile(r"^<image:([0-9a-f]{64})>\n")
#: the decoding loop's version: it enters ``model_id`` (and so every label key), so a change
#: of the loop (v2: special tokens other than EOS are never generated) never reuses old replies
DECODER = "decode-v2"
#: what follows the question in the VLM's input (the reply starts after it)
ANSWER_CUE = " answer :"


def image_prompt(sha: str, text: str) -> str:
    """A VLM prompt: the image mark of ``sha``, then ``text``."""
    return f"<image:{sha}>\n{text}"


def weights_fingerprint(vlm: VLM) -> str:
    """A content hash of the model's weights and vocabulary (a fine-tuned model differs)."""
    h = hashlib.sha256()
    for name, t in sorted(vlm.model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().float().cpu().numpy().tobytes())
    h.update("\0".join(sorted(vlm.tokenizer.get_vocab())).encode())
    return h.hexdigest()[:16]


class VLMBackend(LLMBackend):
    """Greedy and sampled replies of a :class:`VLM` to image-marked prompts."""

    def __init__(self, vlm: VLM, name: str = "qwen2vl") -> None:
        self.vlm = vlm
        self.model_id = f"{name}:{vlm.model_id}@{weights_fingerprint(vlm)}/{DECODER}"
        self.usage = Usage()
        self.images: dict[str, Image.Image] = {}
        vlm.model.eval()

    def add_image(self, image: Image.Image) -> str:
        """Register ``image``; returns the content hash its prompts carry."""
        sha = image_sha(image)
        self.images[sha] = image.convert("RGB")
        return sha

    def _split(self, prompt: Prompt) -> tuple[Image.Image, str]:
        text = to_messages(prompt)[-1]["content"]
        m = _MARK.match(text)
        if not m:
            raise ValueError("a VLM prompt must start with <image:SHA256>\\n (lvlm.backend)")
        if m.group(1) not in self.images:
            raise KeyError(f"image {m.group(1)[:12]}... was not registered with add_image")
        return self.images[m.group(1)], text[m.end() :]

    def _inputs(self, prompt: Prompt, rows: int, suffix: str = "") -> dict[str, torch.Tensor]:
        image, text = self._split(prompt)
        full = f"{VISION_START}{IMAGE_PAD}{VISION_END}{text}{ANSWER_CUE}{suffix}"
        enc = self.vlm.processor(text=[full] * rows, images=[image] * rows, return_tensors="pt")
        return dict(enc.to(self.vlm.device))

    @torch.no_grad()
    def _step_logp(self, enc: dict[str, torch.Tensor]) -> torch.Tensor:
        logits = self.vlm.model(**enc, use_cache=False).logits  # (B, L, V)
        return torch.log_softmax(logits.float(), dim=-1)

    @staticmethod
    def _extend(enc: dict[str, torch.Tensor], tokens: torch.Tensor) -> None:
        """Append one column ``tokens`` (B,) to the text inputs, in place."""
        enc["input_ids"] = torch.cat([enc["input_ids"], tokens[:, None]], 1)
        enc["attention_mask"] = torch.cat(
            [enc["attention_mask"], torch.ones_like(tokens)[:, None]], 1
        )
        if "mm_token_type_ids" in enc:
            mm = enc["mm_token_type_ids"]
            enc["mm_token_type_ids"] = torch.cat([mm, torch.zeros_like(mm[:, :1])], 1)

    def _decode(
        self,
        prompt: Prompt,
        seeds: Sequence[int | None],
        temperature: float,
        top_p: float,
        max_new_tokens: int,
    ) -> list[Generation]:
        t0 = time.perf_counter()
        tok = self.vlm.tokenizer
        enc = self._inputs(prompt, len(seeds))
        n_in = int(enc["input_ids"].shape[1])
        gens = [None if s is None else torch.Generator().manual_seed(int(s)) for s in seeds]
        banned = self._banned()
        picked: list[list[int]] = [[] for _ in seeds]
        lps: list[list[float]] = [[] for _ in seeds]
        done = [False] * len(seeds)
        finish = ["length"] * len(seeds)
        for _ in range(max_new_tokens):
            logp = self._step_logp(enc)[:, -1].cpu()  # (B, V)
            nxt = torch.empty(len(seeds), dtype=torch.long)
            for b, g in enumerate(gens):
                nxt[b] = _choose(logp[b], g, temperature, top_p, banned)
                if done[b]:
                    continue
                if int(nxt[b]) == tok.eos_token_id:
                    done[b], finish[b] = True, "stop"
                else:
                    picked[b].append(int(nxt[b]))
                    lps[b].append(float(logp[b, nxt[b]]))
            if all(done):
                break
            self._extend(enc, nxt.to(self.vlm.device))
        out = [
            Generation(
                text=tok.decode(p, skip_special_tokens=True).strip(),
                tokens=tok.convert_ids_to_tokens(p),
                token_logprobs=lp,
                tokens_in=n_in,
                tokens_out=len(p),
                finish_reason=f,
            )
            for p, lp, f in zip(picked, lps, finish, strict=True)
        ]
        n_out = sum(g.tokens_out for g in out)
        self.usage.add(calls=len(seeds), tokens_in=n_in * len(seeds), tokens_out=n_out,
                       tokens_computed=n_in * len(seeds) + n_out,
                       seconds=time.perf_counter() - t0)  # fmt: skip
        return out

    def _banned(self) -> torch.Tensor:
        """Ids a reply may not hold: every special token but end-of-sequence (an image pad in
        a reply would break the image-token count of the next step)."""
        tok = self.vlm.tokenizer
        ids = set(tok.all_special_ids) - {tok.eos_token_id}
        return torch.tensor(sorted(ids), dtype=torch.long)

    def generate(self, prompt, n=1, temperature=0.0, max_new_tokens=32, seed=None):
        """``n`` replies (temperature 0: greedy, the same reply ``n`` times)."""
        if temperature == 0:
            return self._decode(prompt, [None], 0.0, 1.0, max_new_tokens) * n
        base = 0 if seed is None else seed
        return self._decode(prompt, [base + i for i in range(n)], temperature, 1.0, max_new_tokens)

    def sample(self, prompt, seeds, temperature=1.0, top_p=1.0, max_new_tokens=32):
        return self._decode(prompt, list(seeds), temperature, top_p, max_new_tokens)

    @torch.no_grad()
    def score(self, prompts: Sequence[Prompt], options: Sequence[str]) -> np.ndarray:
        """Teacher-forced log-probs ``[n_prompts, n_options]`` of each option after the cue."""
        opts = check_options(options)
        out = np.zeros((len(prompts), len(opts)))
        for i, p in enumerate(prompts):
            base = int(self._inputs(p, 1)["input_ids"].shape[1])
            for j, o in enumerate(opts):
                enc = self._inputs(p, 1, " " + o)
                logp = self._step_logp(enc)[0]  # (L, V)
                ids = enc["input_ids"][0]
                out[i, j] = float(sum(logp[t - 1, ids[t]] for t in range(base, len(ids))))
        return out

    def count_tokens(self, prompt: Prompt) -> int:
        return int(self._inputs(prompt, 1)["input_ids"].shape[1])


def _choose(
    logp: torch.Tensor,
    gen: torch.Generator | None,
    temperature: float,
    top_p: float,
    banned: torch.Tensor | None = None,
) -> int:
    """The next token: argmax (``gen`` None) or a draw at ``temperature`` within ``top_p``,
    never one of ``banned``."""
    if banned is not None and len(banned):
        logp = logp.clone()
        logp[banned] = float("-inf")
    if gen is None:
        return int(torch.argmax(logp))
    probs = torch.softmax(logp / temperature, dim=-1)  # (V,)
    if top_p < 1.0:
        sorted_p, order = torch.sort(probs, descending=True)
        keep = torch.cumsum(sorted_p, 0) - sorted_p < top_p
        probs = torch.zeros_like(probs).scatter(0, order[keep], sorted_p[keep])
    return int(torch.multinomial(probs, 1, generator=gen))
