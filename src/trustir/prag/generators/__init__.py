"""The augmentation prompts of PRAG as registered generators (issue 15).

A generator owns its template and its parser: ``prompt(title, text, n, index)`` is the chat message,
``parse(reply, n)`` the list it yields (rewrite texts, or (question, answer) pairs) or a
:class:`Unparseable` error, which the caller records as an error row (never a guess).
``template_hash`` enters the label keys: change the template or the parser version and every
key changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trustir.registry import Registry


class Unparseable(ValueError):
    """A reply the generator's parser cannot read."""


@dataclass(frozen=True)
class Generator:
    """One augmentation prompt: its kind ("rewrite" or "qa"), template and parser."""

    kind: str
    template: str
    version: str
    parse: Callable[[str, int], list[Any]]

    def prompt(self, title: str, text: str, n: int, index: int = 0) -> str:
        """The message asking for ``n`` items (the ``index``-th call of this kind for the doc)."""
        return self.template.format(title=title, text=text, n=n, index=index + 1)

    @property
    def template_hash(self) -> str:
        from trustir.llm.store import template_hash

        return template_hash("trustir.prag", self.kind, self.template, self.version)


GENERATORS: Registry[Generator] = Registry("prag generator", autoload="trustir.prag.generators")
