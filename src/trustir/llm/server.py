"""``trustir serve-llm``: an OpenAI-compatible HTTP server over the ``hf`` backend (stdlib only).

Issue 3. Serves ``GET /v1/models``, ``POST /v1/completions`` (prompt, max_tokens, temperature, n,
logprobs, echo, seed) and ``POST /v1/chat/completions`` (messages, n, temperature, top_p,
max_tokens, logprobs, top_logprobs, seed, and trustir's ``seeds`` extension: one seed per choice,
issue 14), with log-probabilities in OpenAI's formats, so several workers can share one loaded
model and the ``openai`` backend can be tested against a real server. One lock
serialises model calls; the threaded HTTP layer only parses and formats.

Issue 19: bound beyond loopback it warns; with ``$TRUSTIR_SERVE_LLM_TOKEN`` (or the variable
``--token-env`` names) set, every request but ``/health`` needs ``Authorization: Bearer <it>``
(401 otherwise). ``--faults`` (:mod:`trustir.llm.faults`) makes it fail, stall or die on purpose,
and ``GET /stats`` tells what it did.
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import json
import logging
import math
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from trustir.llm.backends._key_policy import is_loopback
from trustir.llm.base import to_messages
from trustir.llm.faults import ENV as FAULTS_ENV
from trustir.llm.faults import FaultInjector, FaultSpec

log = logging.getLogger(__name__)

MAX_TOP_LOGPROBS = 20
TOKEN_ENV = "TRUSTIR_SERVE_LLM_TOKEN"  # noqa: S105  the NAME of the env var, not a token


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
        # every model call on one thread: torch run from each connection's thread grew the RSS
        # by ~30 MiB per 800 requests (8 connections); on one thread it stays flat (issue 19)
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="serve-llm-model")

    def run(self, fn: Any, body: dict[str, Any]) -> dict[str, Any]:
        """``fn(body)`` on the model thread (requests are served one at a time, as before)."""
        return self._worker.submit(fn, body).result()

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
    token: str | None = None  # the bearer token every request but /health must carry
    faults: FaultInjector | None = None
    die: Any = None  # what "exit_after" calls (the process exits; in a thread: the server stops)

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

    def _authorised(self) -> bool:
        """No token configured, or the request carries it (401 sent otherwise)."""
        if self.token is None:
            return True
        given = self.headers.get("Authorization") or ""
        if hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
            return True
        self._error(401, "missing or wrong bearer token", "authentication_error")
        return False

    def _inject(self) -> bool:
        """Apply this request's drawn fault; True when the request is answered (or dropped)."""
        if self.faults is None:
            return False
        fault = self.faults.draw()
        if fault.delay:
            time.sleep(fault.delay)
        if fault.exit:
            self.die()
            self.close_connection = True
            with contextlib.suppress(OSError):  # reset the connection, as a killed process would
                self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if fault.status is not None:
            self.send_response(fault.status)
            if fault.retry_after is not None:
                self.send_header("Retry-After", f"{fault.retry_after:g}")
            data = json.dumps(
                {"error": {"message": f"injected fault {fault.status}", "code": fault.status}}
            ).encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return True
        return False

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.rstrip("/")
        if path in ("/health", "/v1/health"):
            self._send(200, {"status": "ok"})
            return
        if not self._authorised():
            return
        if path in ("/stats", "/v1/stats"):
            counts = dict(self.faults.counts) if self.faults else {}
            self._send(200, {"faults": counts})
        elif path in ("/v1/models", "/models"):
            self._send(200, self.service.models())
        elif path in ("/health", "/v1/health"):
            self._send(200, {"status": "ok"})
        else:
            self._error(404, f"no route {self.path}", "not_found")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not self._authorised() or self._inject():
            return
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
            self._send(200, self.service.run(fn, body))
        except (json.JSONDecodeError, BadRequest) as exc:
            self._error(400, str(exc), "invalid_request_error")
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout)
            log.info("serve-llm: the client of %s left before the answer", self.path)
            self.close_connection = True
        except Exception as exc:  # a bug must not kill the server: answer 500 and log it
            log.exception("serve-llm: %s failed", self.path)
            self._error(500, f"{type(exc).__name__}: {exc}", "server_error")


def make_server(
    backend: Any,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    faults: FaultSpec | str | None = None,
    die: Any = None,
) -> ThreadingHTTPServer:
    """A threaded HTTP server bound to (host, port) (0 = any free port) over ``backend``.

    ``token``: the bearer token requests must carry (None = open); ``faults``: a
    :class:`FaultSpec` or its spec string; ``die``: what ``exit_after`` calls (default: stop
    this server, closing its socket; ``main`` exits the process instead).
    """
    spec = FaultSpec.parse(faults) if isinstance(faults, str | None) else faults
    if not is_loopback(host):
        log.warning(
            "serve-llm is bound to %s: reachable from other machines%s",
            host,
            "" if token else f"; anyone can use the model (set ${TOKEN_ENV} to require a token)",
        )
    attrs: dict[str, Any] = {
        "service": LLMService(backend),
        "token": token or None,
        "faults": FaultInjector(spec),  # counts requests even when it injects nothing
    }
    handler = type("Handler", (_Handler,), attrs)
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True

    def stop() -> None:  # from a handler thread: close the socket now, stop the loop later
        server.socket.close()
        threading.Thread(target=server.shutdown, daemon=True).start()

    handler.die = staticmethod(die or stop)
    return server


def base_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/v1"


@contextmanager
def serving(
    backend: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    faults: FaultSpec | str | None = None,
) -> Iterator[str]:
    """Serve ``backend`` in a background thread; yields its base URL (``http://h:p/v1``)."""
    server = make_server(backend, host, port, token=token, faults=faults)
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
    p.add_argument(
        "--token-env",
        default=TOKEN_ENV,
        help="the env var whose value (if set) every request must carry as a Bearer token",
    )
    p.add_argument(
        "--faults",
        default=os.environ.get(FAULTS_ENV),
        help="fault injection for tests, e.g. fail=0.1,status=429:500,retry_after=0.2,"
        f"delay=2,exit_after=50 (default ${FAULTS_ENV}; see trustir.llm.faults)",
    )
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    spec = FaultSpec.parse(args.faults)  # a bad spec fails before the model loads
    backend = HFBackend(
        args.model, revision=args.revision, device=args.device, dtype=args.dtype, seed=args.seed
    )
    token = os.environ.get(args.token_env) or None

    def die() -> None:
        log.warning("serve-llm: exit_after reached, exiting (fault injection)")
        os._exit(3)

    server = make_server(backend, args.host, args.port, token=token, faults=spec, die=die)
    auth = "a bearer token required" if token else "no token"
    print(f"serving {backend.model_id} at {base_url(server)} ({auth}; Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
