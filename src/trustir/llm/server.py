"""``trustir serve-llm``: an OpenAI-compatible HTTP server over the ``hf`` backend (stdlib only).

Issue 3. Serves ``GET /v1/models``, ``POST /v1/completions`` (prompt, max_tokens, temperature, n,
logprobs, echo, seed) and ``POST /v1/chat/completions`` (messages, n, temperature, top_p,
max_tokens, logprobs, top_logprobs, seed, and trustir's ``seeds`` extension: one seed per choice,
issue 14), with log-probabilities in OpenAI's formats, so several workers can share one loaded
model and the ``openai`` backend can be tested against a real server. One lock
serialises model calls; the threaded HTTP layer only parses and formats.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from trustir.llm.base import to_messages

log = logging.getLogger(__name__)

MAX_TOP_LOGPROBS = 20


class BadRequest(ValueError):
    """A request the server refuses with HTTP 400 (the message goes back to the client)."""


def _int(body: dict[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    value = body.get(key, default)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise BadRequest(f"'{key}' must be an integer in [{lo}, {hi}], got {value!r}")
    return value


def _temperature(body: dict[str, Any]) -> float:
    t = body.get("temperature", 1.0)
    t = 1.0 if t is None else t
    if isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t <= 2:
        raise BadRequest(f"'temperature' must be a number in [0, 2], got {t!r}")
    return float(t)


def _top_p(body: dict[str, Any]) -> float:
    p = body.get("top_p", 1.0)
    p = 1.0 if p is None else p
    if isinstance(p, bool) or not isinstance(p, int | float) or not 0 < p <= 1:
        raise BadRequest(f"'top_p' must be a number in (0, 1], got {p!r}")
    return float(p)


def _seeds(body: dict[str, Any], n: int) -> list[int] | None:
    """trustir's extension: ``seeds``, one integer per choice (choice i drawn from seeds[i])."""
    seeds = body.get("seeds")
    if seeds is None:
        return None
    if (
        not isinstance(seeds, list)
        or len(seeds) != n
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)
    ):
        raise BadRequest(f"'seeds' must be a list of n={n} non-negative integers")
    return seeds


def _no_stop(body: dict[str, Any]) -> None:
    if body.get("stop"):
        raise BadRequest("'stop' is not supported by trustir serve-llm")


def _lp(x: float) -> float | None:
    return None if math.isnan(x) else x


class LLMService:
    """Turns OpenAI request bodies into ``HFBackend`` calls and OpenAI response bodies."""

    def __init__(self, backend: Any, max_tokens_default: int = 256) -> None:
        self.backend = backend
        self.max_tokens_default = max_tokens_default

    def _seed(self, body: dict[str, Any], *parts: Any) -> int:
        seed = body.get("seed")
        if seed is None:
            return self.backend.derive_seed(*parts)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise BadRequest(f"'seed' must be an integer, got {seed!r}")
        return seed

    def _tok(self, t: int) -> str:
        return self.backend.tokenizer.decode([t])

    def models(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [{"id": self.backend.model_id, "object": "model", "owned_by": "trustir"}],
        }

    def completions(self, body: dict[str, Any]) -> dict[str, Any]:
        prompts = body.get("prompt")
        if isinstance(prompts, str):
            prompts = [prompts]
        if (
            not isinstance(prompts, list)
            or not prompts
            or not all(isinstance(p, str) and p for p in prompts)
        ):
            raise BadRequest("'prompt' must be a non-empty string or a list of them")
        _no_stop(body)
        n = _int(body, "n", 1, 1, 64)
        max_tokens = _int(body, "max_tokens", 16, 0, 4096)
        k = body.get("logprobs")
        k = None if k is None else _int(body, "logprobs", 0, 0, MAX_TOP_LOGPROBS)
        echo = bool(body.get("echo", False))
        temperature = _temperature(body)
        if max_tokens == 0 and not echo:
            raise BadRequest("'max_tokens' 0 needs 'echo': nothing would be returned")
        tok = self.backend.tokenizer
        choices, n_in, n_out = [], 0, 0
        for i, text in enumerate(prompts):
            enc = tok(text, return_offsets_mapping=True)
            ids, offsets = enc["input_ids"], [a for a, _ in enc["offset_mapping"]]
            seed = self._seed(body, ids, n, temperature, max_tokens, i)
            gens, echoed = self.backend.generate_ids(
                ids, n, temperature, max_tokens, seed, top_k=k or 0, echo=echo
            )
            n_in += len(ids)
            for s, g in enumerate(gens):
                n_out += len(g.ids)
                new = tok.decode(g.ids, skip_special_tokens=True)
                choice: dict[str, Any] = {
                    "index": i * n + s,
                    "text": (text if echo else "") + new,
                    "logprobs": None,
                    "finish_reason": g.finish_reason,
                }
                if k is not None:
                    choice["logprobs"] = self._completion_logprobs(
                        echoed, offsets, g, len(text) if echo else 0
                    )
                choices.append(choice)
        return {
            "id": f"cmpl-{uuid.uuid4().hex[:24]}",
            "object": "text_completion",
            "created": int(time.time()),
            "model": self.backend.model_id,
            "choices": choices,
            "usage": {
                "prompt_tokens": n_in,
                "completion_tokens": n_out,
                "total_tokens": n_in + n_out,
            },
        }

    def _completion_logprobs(
        self, echoed: Any, offsets: list[int], gen: Any, start: int
    ) -> dict[str, Any]:
        """OpenAI's legacy logprobs: tokens, token_logprobs, top_logprobs, text_offset."""
        tokens, lps, tops, offs = [], [], [], []
        if echoed is not None:
            tokens += [self._tok(t) for t in echoed.ids]
            lps += [_lp(x) for x in echoed.logprobs]
            if echoed.top:
                tops += [{self._tok(t): v for t, v in top} if top else None for top in echoed.top]
            else:
                tops += [None] * len(echoed.ids)
            offs += offsets
        pos = start
        for j, t in enumerate(gen.ids):
            s = self._tok(t)
            tokens.append(s)
            lps.append(gen.logprobs[j])
            tops.append({self._tok(a): v for a, v in gen.top[j]} if gen.top else None)
            offs.append(pos)
            pos += len(s)
        return {"tokens": tokens, "token_logprobs": lps, "top_logprobs": tops, "text_offset": offs}

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise BadRequest("'messages' must be a non-empty list")
        try:
            msgs = to_messages(
                [{"role": m.get("role"), "content": m.get("content")} for m in messages]
            )
        except (AttributeError, ValueError) as exc:
            raise BadRequest(f"bad 'messages': {exc}") from None
        if not all(isinstance(m["content"], str) for m in msgs):
            raise BadRequest("message 'content' must be a string")
        _no_stop(body)
        n = _int(body, "n", 1, 1, 64)
        key = "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens"
        max_tokens = _int(body, key, self.max_tokens_default, 1, 4096)
        want_lp = bool(body.get("logprobs", False))
        k = _int(body, "top_logprobs", 0, 0, MAX_TOP_LOGPROBS)
        if k and not want_lp:
            raise BadRequest("'top_logprobs' needs 'logprobs': true")
        temperature = _temperature(body)
        top_p = _top_p(body)
        row_seeds = _seeds(body, n)
        ids = self.backend.render(msgs)
        seed = self._seed(body, ids, n, temperature, max_tokens)
        if row_seeds is None and top_p < 1:
            row_seeds = [seed + i for i in range(n)]
        gens, _ = self.backend.generate_ids(
            ids, n, temperature, max_tokens, seed, top_k=k, top_p=top_p, row_seeds=row_seeds
        )
        choices = []
        for s, g in enumerate(gens):
            lp = None
            if want_lp:
                content = []
                for j, t in enumerate(g.ids):
                    text = self._tok(t)
                    top = [
                        {"token": self._tok(a), "logprob": v, "bytes": list(self._tok(a).encode())}
                        for a, v in (g.top[j] if g.top else [])
                    ]
                    content.append(
                        {
                            "token": text,
                            "logprob": g.logprobs[j],
                            "bytes": list(text.encode()),
                            "top_logprobs": top,
                        }
                    )
                lp = {"content": content}
            choices.append(
                {
                    "index": s,
                    "message": {
                        "role": "assistant",
                        "content": self.backend.tokenizer.decode(g.ids, skip_special_tokens=True),
                    },
                    "logprobs": lp,
                    "finish_reason": g.finish_reason,
                }
            )
        n_out = sum(len(g.ids) for g in gens)
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.backend.model_id,
            "choices": choices,
            "usage": {
                "prompt_tokens": len(ids),
                "completion_tokens": n_out,
                "total_tokens": len(ids) + n_out,
            },
        }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every reply carries Content-Length
    service: LLMService  # set on the subclass made by make_server

    def log_message(self, fmt: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), fmt % args)

    def _send(self, status: int, obj: Any) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, kind: str) -> None:
        self._send(status, {"error": {"message": message, "type": kind, "code": status}})

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.rstrip("/")
        if path in ("/v1/models", "/models"):
            self._send(200, self.service.models())
        elif path in ("/health", "/v1/health"):
            self._send(200, {"status": "ok"})
        else:
            self._error(404, f"no route {self.path}", "not_found")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        routes = {
            "/v1/completions": self.service.completions,
            "/v1/chat/completions": self.service.chat,
        }
        fn = routes.get(self.path.rstrip("/"))
        if fn is None:
            self._error(404, f"no route {self.path}", "not_found")
            return
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise BadRequest("the request body must be a JSON object")
            self._send(200, fn(body))
        except (json.JSONDecodeError, BadRequest) as exc:
            self._error(400, str(exc), "invalid_request_error")
        except Exception as exc:  # a bug must not kill the server: answer 500 and log it
            log.exception("serve-llm: %s failed", self.path)
            self._error(500, f"{type(exc).__name__}: {exc}", "server_error")


def make_server(backend: Any, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """A threaded HTTP server bound to (host, port) (0 = any free port) over ``backend``."""
    handler = type("Handler", (_Handler,), {"service": LLMService(backend)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def base_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/v1"


@contextmanager
def serving(backend: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``backend`` in a background thread; yields its base URL (``http://h:p/v1``)."""
    server = make_server(backend, host, port)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="serve-llm", daemon=True
    )
    thread.start()
    try:
        yield base_url(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    """``trustir serve-llm``: load a model and serve it until interrupted."""
    from trustir.llm.backends.hf import HFBackend

    p = argparse.ArgumentParser(
        prog="trustir serve-llm",
        description="Serve a local causal LM over an OpenAI-compatible HTTP API "
        "(/v1/models, /v1/completions, /v1/chat/completions) with log-probabilities.",
    )
    p.add_argument("--model", default="smollm2", help="smollm2, a HF model id, or a folder")
    p.add_argument("--revision", default=None)
    p.add_argument("--host", default="127.0.0.1", help="bind address (keep loopback unless sure)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--device", default="auto")
    p.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16", "float16"])
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    backend = HFBackend(
        args.model, revision=args.revision, device=args.device, dtype=args.dtype, seed=args.seed
    )
    server = make_server(backend, args.host, args.port)
    print(f"serving {backend.model_id} at {base_url(server)} (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
