"""Where the ``openai`` backend may send its Bearer key (issue 19, "Security: API keys").

A key travels in clear text over ``http://``. That is harmless on loopback (the key never
leaves the machine) and a leak anywhere else, so a key with a plain-HTTP, non-loopback URL is
refused at start unless ``llm.allow_plain_http_key`` says the network is trusted.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from trustir.llm.base import LLMError

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or a ``localhost`` name (no DNS lookup: a name could resolve anywhere)."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_key_transport(urls: list[str], has_key: bool, allow_plain_http: bool) -> None:
    """Raise when a key would cross a network in clear text (names the URL and the param)."""
    if not has_key or allow_plain_http:
        return
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
            raise LLMError(
                f"refusing to send the API key (llm.api_key_env) over plain HTTP to {url}: "
                "use https://, a loopback address, or set llm.allow_plain_http_key: true if "
                "this network is trusted"
            )
