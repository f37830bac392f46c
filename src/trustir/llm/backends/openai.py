"""The ``openai`` backend: any OpenAI-compatible endpoint (vLLM, llama.cpp server, hosted APIs).

Issue 3. Bounded concurrency (a thread pool), retries with exponential back-off and full jitter
on timeouts, connection errors, 408/409/429 and 5xx (never on another 4xx), a clear error naming
the endpoint when it cannot be reached. The API key is read from the environment variable whose
*name* params give; it is sent only as the Bearer header and is redacted from every message.

Scoring: ``completions`` mode sends prompt + option to ``/completions`` with ``echo`` and
``logprobs`` and sums the option's tokens (exact, multi-token options); the chat template is
rendered here with a local ``tokenizer``. ``chat`` mode asks ``/chat/completions`` for one token
with ``top_logprobs`` and reads each option's first token there (-inf when absent).

Issues 18/19: ``base_url`` may list several replicas (:mod:`._endpoints`: ``concurrency``
requests in flight per endpoint, least-loaded choice, failover away from a dead one); a prompt
that fails for good does not sink its neighbours (:class:`LLMPartialScores`); a key is never sent
over plain HTTP beyond loopback (:mod:`._key_policy`).
``continuation_logprobs`` (the query-likelihood judge) reads the echoed tokens of prompt +
continuation from ``/completions`` the same way, one log-prob per continuation token.
"""

from __future__ import annotations

import logging
import math
import random
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import requests

from trustir.llm.backends._endpoints import Endpoint, EndpointPool
from trustir.llm.backends._key_policy import check_key_transport
from trustir.llm.base import (
    BACKENDS,
    Generation,
    LLMBackend,
    LLMConnectionError,
    LLMError,
    LLMHTTPError,
    LLMPartialScores,
    LLMTimeoutError,
    Prompt,
    Usage,
    check_options,
    derive_seed,
    to_messages,
)

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 409, 429})  # and every 5xx
MAX_BACKOFF_S = 30.0


class _Secret:
    """Holds the API key; prints as ``***`` (repr, str, f-strings, logging, vars())."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "***"

    __str__ = __repr__


def _reason(exc: Exception) -> str:
    """A short cause for a connection error ("[Errno 111] Connection refused")."""
    m = re.search(r"\[Errno -?\d+\][^'\")\]]*", str(exc))
    return m.group(0).strip() if m else type(exc).__name__


def _logprob(value: Any) -> float:
    """A listed token's log-prob; null (a server that lists a token it did not score) is NaN,
    which the judges record as an error row, never as a probability."""
    return float("nan") if value is None else float(value)


@BACKENDS.register("openai")
class OpenAIBackend(LLMBackend):
    """A client of an OpenAI-compatible HTTP API (``base_url`` like ``http://host:port/v1``, or a
    list of replicas serving the same model)."""

    def __init__(
        self,
        base_url: str | Sequence[str],
        model: str,
        api_key_env: str | None = None,
        revision: str | None = None,
        concurrency: int = 4,
        timeout_s: float = 60.0,
        max_retries: int = 4,
        backoff_s: float = 0.5,
        score_mode: str = "auto",
        tokenizer: str | None = None,
        top_logprobs: int = 20,
        batch_size: int = 16,
        seed: int = 0,
        cooldown_s: float = 2.0,
        allow_plain_http_key: bool = False,
    ) -> None:
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"base_url must start with http:// or https://, got {url!r}")
        self.base_urls = [u.rstrip("/") for u in urls]
        self.base_url = self.base_urls[0] if len(urls) == 1 else ", ".join(self.base_urls)
        self.pool = EndpointPool(self.base_urls, per_endpoint=concurrency, cooldown_s=cooldown_s)
        self.model = model
        self.model_id = f"{model}@{revision}" if revision else model
        self.api_key_env = api_key_env
        self._key: _Secret | None = None
        if api_key_env:
            import os

            value = os.environ.get(api_key_env)
            if not value:
                raise LLMError(
                    f"the environment variable {api_key_env} (llm.api_key_env) is not set; "
                    "it must hold the API key"
                )
            self._key = _Secret(value)
        check_key_transport(self.base_urls, self._key is not None, allow_plain_http_key)
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.top_logprobs = top_logprobs
        self.batch_size = batch_size
        self.seed = seed
        self.tokenizer_name = tokenizer
        self.tokenizer = None
        if tokenizer:
            from trustir.llm.models import load_tokenizer

            self.tokenizer = load_tokenizer(tokenizer)
        if score_mode == "completions" and self.tokenizer is None:
            log.info("score_mode 'completions' without a tokenizer: prompts are sent as raw text")
        self.score_mode = score_mode
        self.usage = Usage()
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._executor: ThreadPoolExecutor | None = None  # one pool for the backend's lifetime
        self._rng = random.Random()  # noqa: S311  jitter of retry backoff, not cryptography
        self._warned_multi = False
        self._seeds_ok = True  # the server takes trustir's per-choice ``seeds`` (until refused)

    @classmethod
    def from_params(cls, params: Any) -> OpenAIBackend:
        return cls(
            base_url=params.base_url,
            model=params.model,
            api_key_env=params.api_key_env,
            revision=params.revision,
            concurrency=params.concurrency,
            timeout_s=params.timeout_s,
            max_retries=params.max_retries,
            backoff_s=params.backoff_s,
            score_mode=params.score_mode,
            tokenizer=params.tokenizer,
            top_logprobs=params.top_logprobs,
            batch_size=params.batch_size,
            seed=params.seed,
            cooldown_s=params.cooldown_s,
            allow_plain_http_key=params.allow_plain_http_key,
        )

    def __repr__(self) -> str:
        return (
            f"OpenAIBackend(base_url={self.base_url!r}, model={self.model!r}, "
            f"api_key_env={self.api_key_env!r})"
        )

    def describe(self) -> dict[str, Any]:
        return {
            "backend": "openai",
            "model_id": self.model_id,
            "base_url": self.base_urls[0] if len(self.base_urls) == 1 else self.base_urls,
            "api_key_env": self.api_key_env,
        }

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        for s in self._sessions:
            s.close()
        self._sessions.clear()

    # ---- HTTP -----------------------------------------------------------------------------
    def _redact(self, text: str) -> str:
        if self._key is not None and self._key.get():
            text = text.replace(self._key.get(), "***")
        return text

    def _session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            self._local.session = s
            self._sessions.append(s)
        return s

    def _headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json"}
        if self._key is not None:
            h["Authorization"] = f"Bearer {self._key.get()}"
        return h

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Full jitter: uniform in [0, backoff·2^(attempt-1)], capped; Retry-After is a floor."""
        cap = min(MAX_BACKOFF_S, self.backoff_s * 2 ** (attempt - 1))
        delay = self._rng.uniform(0, cap)
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_BACKOFF_S))
        return delay

    def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST JSON to ``path`` on one of the endpoints, retrying transient failures (on another
        endpoint when one is up, at once; else after a jittered back-off); the parsed answer."""
        last: LLMError | None = None
        retry_after: float | None = None
        tries = self.max_retries + 1
        prev: Endpoint | None = None
        for attempt in range(tries):
            if attempt:
                self.usage.add(retries=1)
                assert prev is not None  # noqa: S101  narrows the type; set by the loop above
                failover = self.pool.any_other_up(prev)
                delay = 0.0 if failover else self._backoff(attempt, retry_after)
                log.warning(
                    "retrying %s in %.2fs (try %d/%d)%s: %s",
                    path,
                    delay,
                    attempt + 1,
                    tries,
                    " on another endpoint" if failover else "",
                    last,
                )
                time.sleep(delay)
            with self.pool.lease(avoid=prev) as ep:
                prev = ep
                result, last, retry_after = self._post_once(ep, path, payload)
            if last is None:
                return result
        assert last is not None  # noqa: S101  narrows the type; the loop ran at least once
        status = getattr(last, "status", None)
        msg = f"{last} (gave up after {tries} tries)"
        if isinstance(last, LLMHTTPError):
            raise LLMHTTPError(msg, status or 0)  # last is an LLMHTTPError: status is set
        raise type(last)(msg)

    def _post_once(
        self, ep: Endpoint, path: str, payload: dict[str, Any]
    ) -> tuple[dict[str, Any], LLMError | None, float | None]:
        """One try at one endpoint: (answer, None, None), or ({}, a retryable error, its
        Retry-After); a non-retryable failure raises."""
        url = f"{ep.url}{path}"
        try:
            r = self._session().post(
                url,
                json=payload,
                headers=self._headers(),
                timeout=(min(self.timeout_s, 10.0), self.timeout_s),
            )
        except requests.Timeout:
            self.pool.down(ep)
            return {}, LLMTimeoutError(f"{url} gave no answer within {self.timeout_s:g} s"), None
        except requests.ConnectionError as exc:
            self.pool.down(ep)
            return (
                {},
                LLMConnectionError(
                    f"cannot reach the OpenAI-compatible endpoint at {ep.url} "
                    f"({self._redact(_reason(exc))}); is the server running (trustir serve-llm)?"
                ),
                None,
            )
        except requests.RequestException as exc:
            raise LLMError(f"{url}: {self._redact(type(exc).__name__)}") from None
        self.pool.ok(ep)
        if 200 <= r.status_code < 300:
            try:
                return r.json(), None, None
            except ValueError:
                raise LLMError(f"{url} answered {r.status_code} with invalid JSON") from None
        detail = self._redact(self._error_detail(r))
        err = LLMHTTPError(f"{url} answered HTTP {r.status_code}: {detail}", r.status_code)
        if r.status_code in RETRY_STATUS or r.status_code >= 500:
            try:
                retry_after = float(r.headers.get("Retry-After", ""))
            except ValueError:
                retry_after = None
            if retry_after is not None:
                self.pool.hold_off(ep, retry_after)
            return {}, err, retry_after
        raise err

    @staticmethod
    def _error_detail(r: requests.Response) -> str:
        try:
            body = r.json()
            err = body.get("error", body) if isinstance(body, dict) else body
            msg = err.get("message", err) if isinstance(err, dict) else err
            return str(msg)[:300]
        except ValueError:
            return (r.text or r.reason or "")[:300]

    def _map(self, fn: Any, jobs: list[Any]) -> list[Any]:
        """``fn`` over ``jobs`` (at most ``pool.capacity`` at once); the first failure raises."""
        out = self._map_settled(fn, jobs)
        for r in out:
            if isinstance(r, LLMError):
                raise r
        return out

    def _map_settled(self, fn: Any, jobs: list[Any]) -> list[Any]:
        """``fn`` over ``jobs``; a job that failed for good gives its LLMError in its place (every
        other job still runs), anything else (a bug) raises."""

        def settled(job: Any) -> Any:
            try:
                return fn(job)
            except LLMError as exc:
                return exc

        if len(jobs) <= 1 or self.pool.capacity <= 1:
            return [settled(j) for j in jobs]
        if self._executor is None:  # persistent: per-thread sessions stay bounded
            self._executor = ThreadPoolExecutor(self.pool.capacity, thread_name_prefix="openai")
        return list(self._executor.map(settled, jobs))

    @staticmethod
    def _settle_scores(out: np.ndarray, failed: dict[int, LLMError]) -> np.ndarray:
        """``out`` if every prompt was scored; the error itself if all failed; else NaN rows
        for the failed ones, raised as :class:`LLMPartialScores`."""
        if not failed:
            return out
        first = failed[min(failed)]
        if len(failed) == len(out):
            raise first
        out[sorted(failed)] = np.nan
        raise LLMPartialScores(
            f"{len(failed)} of {len(out)} prompts failed (first: {first})",
            out,
            {i: str(e) for i, e in failed.items()},
        )

    # ---- prompts --------------------------------------------------------------------------
    def render_text(self, prompt: Prompt) -> str:
        """The text sent to /completions: chat-templated with the local tokenizer, or raw."""
        if self.tokenizer is not None and self.tokenizer.chat_template is not None:
            return self.tokenizer.apply_chat_template(
                to_messages(prompt), add_generation_prompt=True, tokenize=False
            )
        if not isinstance(prompt, str):
            raise ValueError(
                "completions scoring of chat messages needs llm.tokenizer (to render the chat "
                "template); or use score_mode 'chat'"
            )
        return prompt

    def count_tokens(self, prompt: Prompt) -> int:
        if self.tokenizer is not None:
            return len(self.tokenizer.encode(self.render_text(prompt), add_special_tokens=False))
        msgs = to_messages(prompt)  # an estimate: ~4 characters a token, plus the template
        return sum(math.ceil(len(m["content"]) / 4) + 4 for m in msgs) + 2

    # ---- score ----------------------------------------------------------------------------
    def score(self, prompts: Sequence[Prompt], options: Sequence[str]) -> np.ndarray:
        opts = check_options(options)
        t0 = time.perf_counter()
        mode = self.score_mode
        if mode == "auto":
            mode = "completions" if self.tokenizer is not None else "chat"
        out = None
        if mode == "completions":
            try:
                out = self._score_completions(list(prompts), opts)
            except LLMHTTPError as exc:
                if self.score_mode != "auto" or exc.status not in (400, 404, 405, 422, 501):
                    raise
                log.warning("%s: completions scoring refused (%s); using chat logprobs", self, exc)
                self.score_mode = "chat"
        if out is None:
            out = self._score_chat(list(prompts), opts)
        self.usage.add(calls=len(prompts), seconds=time.perf_counter() - t0)
        return out

    def _score_completions(self, prompts: list[Prompt], opts: list[str]) -> np.ndarray:
        prefixes = [self.render_text(p) for p in prompts]
        pairs = [(i, j) for i in range(len(prompts)) for j in range(len(opts))]
        chunks = [pairs[k : k + self.batch_size] for k in range(0, len(pairs), self.batch_size)]

        def run(chunk: list[tuple[int, int]]) -> list[float]:
            choices = self._echoed([prefixes[i] + opts[j] for i, j in chunk])
            return [
                self._option_logprob(c.get("logprobs"), len(prefixes[i]), len(opts[j]))
                for c, (i, j) in zip(choices, chunk, strict=True)
            ]

        out = np.zeros((len(prompts), len(opts)), dtype=np.float64)  # [n_prompts, n_options]
        failed: dict[int, LLMError] = {}
        for chunk, vals in zip(chunks, self._map_settled(run, chunks), strict=True):
            if isinstance(vals, LLMError):
                failed.update({i: vals for i, _ in chunk})
                continue
            for (i, j), v in zip(chunk, vals, strict=True):
                out[i, j] = v
        return self._settle_scores(out, failed)

    def _echoed(self, texts: list[str]) -> list[dict[str, Any]]:
        """One ``/completions`` request echoing ``texts`` with their token log-probs: the choices
        in prompt order, one per text (the option and continuation scorers' shared request)."""
        body = {
            "model": self.model,
            "prompt": texts,
            "max_tokens": 1,  # some servers refuse 0; the one new token is ignored
            "temperature": 0,
            "echo": True,
            "logprobs": 1,
        }
        res = self.post("/completions", body)
        self._count(res)
        choices = sorted(res.get("choices", []), key=lambda c: c.get("index", 0))
        if len(choices) != len(texts):
            raise LLMError(f"{self.base_url}: {len(choices)} choices for {len(texts)} prompts")
        return choices

    def _option_logprob(self, lp: dict[str, Any] | None, start: int, length: int) -> float:
        """Sum of the echoed tokens covering characters [start, start + length)."""
        return float(sum(self._span_logprobs(lp, start, length)))

    def _span_logprobs(self, lp: dict[str, Any] | None, start: int, length: int) -> list[float]:
        """The echoed tokens' log-probs covering characters [start, start + length)."""
        if not lp or "token_logprobs" not in lp:
            raise LLMError(f"{self.base_url}: no echo logprobs (does it support echo?)")
        tokens, lps = lp.get("tokens") or [], lp["token_logprobs"]
        offsets = lp.get("text_offset")
        if not offsets:  # cumulative token lengths (exact when tokens decode one by one)
            offsets, pos = [], 0
            for t in tokens:
                offsets.append(pos)
                pos += len(t)
        end = start + length
        span: list[float] = []
        for k, off in enumerate(offsets):
            if off >= end:  # the option is over (the one generated token lies past it)
                break
            nxt = offsets[k + 1] if k + 1 < len(offsets) else off + len(tokens[k])
            if nxt > start:  # the token overlaps the option
                if lps[k] is None:
                    raise LLMError(f"{self.base_url}: the option has no log-probability")
                span.append(float(lps[k]))
        if not span:
            raise LLMError(f"{self.base_url}: the option's tokens were not echoed back")
        return span

    def _continuation_span(
        self, choice: dict[str, Any], sent: str, start: int, cont: str
    ) -> np.ndarray:
        """The continuation's token log-probs in an echoed choice: the tokens that end the
        prompt, found from the end (before the generated text) when their strings spell the
        continuation exactly; else by ``text_offset`` (:meth:`_span_logprobs`). From the end,
        because llama-cpp-python 0.3.36 computes ``text_offset`` from a detokenisation without
        special tokens, so a chat-templated prompt's offsets fall short of its characters."""
        lp = choice.get("logprobs")
        text = choice.get("text")
        if lp and isinstance(text, str) and text.startswith(sent) and cont:
            tokens, lps = lp.get("tokens") or [], lp.get("token_logprobs") or []
            k, gen = len(tokens) - 1, len(text) - len(sent)  # characters generated after it
            while k >= 0 and gen > 0:
                gen -= len(tokens[k])
                k -= 1
            while k >= 0 and gen == 0 and tokens[k] == "":  # a special token rendered empty
                k -= 1
            picked: list[int] = []
            spelled = ""
            while k >= 0 and gen == 0 and len(spelled) < len(cont):
                spelled = tokens[k] + spelled
                picked.insert(0, k)
                k -= 1
            if spelled == cont and all(lps[j] is not None for j in picked):
                return np.array([float(lps[j]) for j in picked], dtype=np.float64)
        return np.array(self._span_logprobs(lp, start, len(cont)), dtype=np.float64)

    def continuation_logprobs(
        self, prompts: Sequence[Prompt], continuations: Sequence[str], chat: bool = True
    ) -> list[np.ndarray]:
        """Teacher-forced log-probs ``[n_tokens]`` of each continuation after its prompt (the
        query-likelihood judge's path), from ``/completions`` with echo + logprobs: the echoed
        tokens that cover the continuation's characters. ``chat`` renders the prompt with the
        local ``tokenizer``'s chat template; otherwise a string prompt is sent as is."""
        if len(prompts) != len(continuations):
            raise ValueError(f"{len(prompts)} prompts for {len(continuations)} continuations")
        if chat:
            heads = [self.render_text(p) for p in prompts]
        elif all(isinstance(p, str) for p in prompts):
            heads = [str(p) for p in prompts]
        else:
            raise ValueError("a plain (chat=False) continuation prompt must be a string")
        t0 = time.perf_counter()
        idx = list(range(len(heads)))
        chunks = [idx[k : k + self.batch_size] for k in range(0, len(idx), self.batch_size)]

        def run(chunk: list[int]) -> list[np.ndarray]:
            choices = self._echoed([heads[i] + continuations[i] for i in chunk])
            return [
                self._continuation_span(  # [n_tokens]
                    c, heads[i] + continuations[i], len(heads[i]), continuations[i]
                )
                for c, i in zip(choices, chunk, strict=True)
            ]

        out: list[np.ndarray] = [np.zeros(0)] * len(heads)
        for chunk, got in zip(chunks, self._map(run, chunks), strict=True):
            for i, lp in zip(chunk, got, strict=True):
                out[i] = lp
        self.usage.add(calls=len(heads), seconds=time.perf_counter() - t0)
        return out

    def _score_chat(self, prompts: list[Prompt], opts: list[str]) -> np.ndarray:
        def run(prompt: Prompt) -> list[float]:
            body = {
                "model": self.model,
                "messages": to_messages(prompt),
                "max_tokens": 1,
                "temperature": 0,
                "logprobs": True,
                "top_logprobs": self.top_logprobs,
            }
            res = self.post("/chat/completions", body)
            self._count(res)
            try:
                first = res["choices"][0]["logprobs"]["content"][0]
                alts = {a["token"]: _logprob(a["logprob"]) for a in first.get("top_logprobs") or []}
                alts.setdefault(first["token"], _logprob(first["logprob"]))
            except (KeyError, IndexError, TypeError, AttributeError, ValueError):
                raise LLMError(f"{self.base_url}: no chat logprobs in the answer") from None
            return [self._first_token_logprob(alts, o) for o in opts]

        rows = self._map_settled(run, prompts)
        failed = {i: r for i, r in enumerate(rows) if isinstance(r, LLMError)}
        out = np.array(  # [n_prompts, n_options]
            [[np.nan] * len(opts) if i in failed else r for i, r in enumerate(rows)],
            dtype=np.float64,
        ).reshape(len(prompts), len(opts))
        return self._settle_scores(out, failed)

    def _first_token_logprob(self, alts: dict[str, float], option: str) -> float:
        """The option's log-prob among a step's alternatives: exact token, else its longest
        listed first token (multi-token options are approximated), else -inf."""
        if option in alts:
            return float(alts[option])
        starts = [t for t in alts if t and option.startswith(t)]
        if not starts:
            return float("-inf")
        if not self._warned_multi:
            log.warning(
                "chat scoring approximates multi-token option %r by its first token", option
            )
            self._warned_multi = True
        return float(alts[max(starts, key=len)])

    def _count(self, res: dict[str, Any]) -> None:
        # "usage" is optional for OpenAI-compatible servers: one that omits it adds 0 tokens to
        # the ledger (calls are still counted); label rows count their prompt tokens locally
        u = res.get("usage") or {}
        self.usage.add(
            tokens_in=int(u.get("prompt_tokens") or 0),
            tokens_out=int(u.get("completion_tokens") or 0),
        )

    # ---- generate -------------------------------------------------------------------------
    def generate(
        self,
        prompt: Prompt,
        n: int = 1,
        temperature: float = 0.0,
        max_new_tokens: int = 32,
        seed: int | None = None,
    ) -> list[Generation]:
        msgs = to_messages(prompt)
        if seed is None:
            seed = derive_seed(self.seed, msgs, n, temperature, max_new_tokens)
        t0 = time.perf_counter()
        gens: list[Generation] = []
        for attempt in range(n):  # a server that ignores n answers with fewer choices
            body = {
                "model": self.model,
                "messages": msgs,
                "n": n - len(gens),
                "temperature": temperature,
                "max_tokens": max_new_tokens,
                "logprobs": True,
                "seed": seed + attempt,
            }
            res = self.post("/chat/completions", body)
            self._count(res)
            prompt_tokens = int((res.get("usage") or {}).get("prompt_tokens") or 0)
            for c in sorted(res.get("choices", []), key=lambda c: c.get("index", 0)):
                text = (c.get("message") or {}).get("content")
                if not isinstance(text, str):  # "" is a real (empty) reply; null is no reply
                    raise LLMError(
                        f"{self.base_url}/chat/completions: choice {c.get('index', 0)} has no "
                        f"message content (finish_reason {c.get('finish_reason')!r})"
                    )
                # a server that ignores "logprobs" lists no tokens: tokens_out is then 0 here,
                # and the ledger's count (from "usage") is the one to read
                content = ((c.get("logprobs") or {}).get("content")) or []
                gens.append(
                    Generation(
                        text=text,
                        tokens=[t["token"] for t in content],
                        token_logprobs=[float(t["logprob"]) for t in content],
                        tokens_in=prompt_tokens,
                        tokens_out=len(content),
                        finish_reason=c.get("finish_reason") or "stop",
                    )
                )
            if len(gens) >= n:
                break
        if not gens:
            raise LLMError(f"{self.base_url}/chat/completions answered with no choices")
        self.usage.add(calls=1, seconds=time.perf_counter() - t0)
        return gens[:n]

    def sample(
        self,
        prompt: Prompt,
        seeds: Sequence[int],
        temperature: float = 1.0,
        top_p: float = 1.0,
        max_new_tokens: int = 32,
    ) -> list[Generation]:
        """One request with ``n`` = len(seeds) and trustir's ``seeds`` extension (one seed per
        choice: ``trustir serve-llm`` decodes them as one batch from one prefill); a server that
        refuses the extension (HTTP 400/422) gets one ``n`` = 1 request per seed instead."""
        msgs = to_messages(prompt)
        t0 = time.perf_counter()
        body: dict[str, Any] = {
            "model": self.model,
            "messages": msgs,
            "temperature": temperature,
            "top_p": top_p,
            "max_tokens": max_new_tokens,
            "logprobs": True,
        }
        gens: list[Generation] | None = None
        if self._seeds_ok:
            try:
                res = self.post("/chat/completions", {**body, "n": len(seeds), "seeds": [*seeds]})
                gens = self._chat_generations(res)
            except LLMHTTPError as exc:
                if exc.status not in (400, 422):
                    raise
                log.warning("%s refuses per-choice 'seeds'; one request per sample", self)
                self._seeds_ok = False
        if gens is None or len(gens) != len(seeds):
            one = lambda s: self._chat_generations(  # noqa: E731
                self.post("/chat/completions", {**body, "n": 1, "seed": int(s)})
            )[0]
            gens = self._map(one, list(seeds))
        self.usage.add(calls=1, seconds=time.perf_counter() - t0)
        return gens

    def _chat_generations(self, res: dict[str, Any]) -> list[Generation]:
        """The choices of a chat answer as generations (in index order)."""
        self._count(res)
        prompt_tokens = int((res.get("usage") or {}).get("prompt_tokens") or 0)
        out = []
        for c in sorted(res.get("choices", []), key=lambda c: c.get("index", 0)):
            content = ((c.get("logprobs") or {}).get("content")) or []
            out.append(
                Generation(
                    text=(c.get("message") or {}).get("content") or "",
                    tokens=[t["token"] for t in content],
                    token_logprobs=[float(t["logprob"]) for t in content],
                    tokens_in=prompt_tokens,
                    tokens_out=len(content),
                    finish_reason=c.get("finish_reason") or "stop",
                )
            )
        if not out:
            raise LLMError(f"{self.base_url}/chat/completions answered with no choices")
        return out
