"""Readers of real click logs into the sessions table (session_id, query_id, rank, doc_id,
clicked; DESIGN.md), for P8's click-model evaluation.

- :func:`read_yandex_condensed`: the condensed Yandex relevance-prediction (WSCD 2012) format
  that PyClick's examples use: one line per query, sessions separated by ``;``, each
  ``<queryId>_<regionId>\\t<doc1>,...,<docN> : <clicked doc>, <clicked doc>, ...`` (integer ids,
  clicks in click order, repeats allowed, possibly empty). ``query_id`` is ``<queryId>_<regionId>``
  (as PyClick uses it); a click on a document the session did not show is dropped and counted.
- :func:`read_tiangong_sessions`: TianGong-ST's session XML (``<session num>`` >
  ``<interaction num>`` > ``<query_id>``, ``<results>`` > ``<result rank>`` > ``<docid>``,
  ``<clicked>`` > ``<click>`` > ``<rank>``); other elements (query text, titles, relevance,
  timestamps) are skipped.
Malformed input raises :class:`ClickLogError` naming the file, the line and the rule.
"""

from __future__ import annotations

import xml.sax
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from trustir.io.fields import plain_int

SESSION_SCHEMA = {
    "session_id": pl.String,
    "query_id": pl.String,
    "rank": pl.Int64,
    "doc_id": pl.String,
    "clicked": pl.Boolean,
}


class ClickLogError(ValueError):
    """A click log that does not follow its format (the message names file and line)."""


@dataclass
class ReadStats:
    """What a reader skipped: clicks on documents a session did not show."""

    sessions: int = 0
    dropped_clicks: int = 0


def _frame(rows: list[tuple[str, str, int, str, bool]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SESSION_SCHEMA, orient="row")


def read_yandex_condensed(
    path: str | Path, max_sessions: int | None = None, stats: ReadStats | None = None
) -> pl.DataFrame:
    """Sessions of a PyClick-style condensed Yandex file (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"click log {path} does not exist")
    stats = stats if stats is not None else ReadStats()
    rows: list[tuple[str, str, int, str, bool]] = []
    with path.open("rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ClickLogError(f"{path}:{line_no}: not UTF-8 ({exc.reason})") from None
            for k, chunk in enumerate(line.split(";"), start=1):
                if max_sessions is not None and stats.sessions >= max_sessions:
                    return _frame(rows)
                text = chunk.strip()
                if not text:
                    continue
                where = f"{path}:{line_no}: session {k}"
                query, sep, rest = text.partition("\t")
                if not sep or not query.strip():
                    raise ClickLogError(f"{where}: expected '<query>\\t<docs> : <clicks>'")
                shown, colon, clicked = rest.partition(":")
                if not colon:
                    raise ClickLogError(f"{where}: no ':' between the shown docs and the clicks")
                docs = [d.strip() for d in shown.split(",")]
                if not docs or any(not d for d in docs):
                    raise ClickLogError(f"{where}: empty document id in {shown.strip()!r}")
                clicks = {c.strip() for c in clicked.split(",") if c.strip()}
                stats.dropped_clicks += len(clicks - set(docs))
                sid = f"{path.name}:{line_no}:{k}"
                q = query.strip()
                rows += [(sid, q, r, d, d in clicks) for r, d in enumerate(docs, start=1)]
                stats.sessions += 1
    return _frame(rows)


@dataclass
class _Interaction:
    session: str
    number: str
    line: int
    query_id: str | None = None
    results: dict[int, str] = field(default_factory=dict)
    clicked_ranks: set[int] = field(default_factory=set)


class _TianGongHandler(xml.sax.ContentHandler):
    """SAX handler collecting interactions; errors name the line of the offending element."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.rows: list[tuple[str, str, int, str, bool]] = []
        self.session: str | None = None
        self.current: _Interaction | None = None
        self.stack: list[str] = []
        self.result_rank: int | None = None
        self.text: list[str] = []
        self.locator: xml.sax.xmlreader.Locator | None = None

    def setDocumentLocator(self, locator: xml.sax.xmlreader.Locator) -> None:
        self.locator = locator

    def _line(self) -> int:
        return self.locator.getLineNumber() if self.locator else 0

    def _fail(self, rule: str) -> None:
        raise ClickLogError(f"{self.path}:{self._line()}: {rule}")

    def _int(self, value: str | None, what: str) -> int:
        number = plain_int(str(value))
        if number is None:
            self._fail(f"{what} must be an integer, got {value!r}")
            raise AssertionError  # unreachable: _fail raises
        return number

    def startElement(self, name: str, attrs) -> None:
        self.stack.append(name)
        self.text = []
        if name == "session":
            self.session = attrs.get("num") or self._fail("<session> without num")
        elif name == "interaction":
            if self.session is None:
                self._fail("<interaction> outside a <session>")
            number = attrs.get("num") or self._fail("<interaction> without num")
            self.current = _Interaction(self.session, number, self._line())
        elif name == "result" and self._inside("results"):
            self.result_rank = self._int(attrs.get("rank"), "<result rank>")

    def characters(self, content: str) -> None:
        self.text.append(content)

    def _inside(self, parent: str) -> bool:
        return len(self.stack) >= 2 and self.stack[-2] == parent

    def endElement(self, name: str) -> None:
        value = "".join(self.text).strip()
        cur = self.current
        if cur is not None:
            if name == "query_id" and self._inside("interaction"):
                cur.query_id = value
            elif name == "docid" and self._inside("result") and self.result_rank is not None:
                if self.result_rank in cur.results:
                    self._fail(f"rank {self.result_rank} appears twice in one <results>")
                cur.results[self.result_rank] = value
            elif name == "rank" and self._inside("click"):
                cur.clicked_ranks.add(self._int(value, "<click><rank>"))
            elif name == "interaction":
                self._emit(cur)
                self.current = None
        if name == "result":
            self.result_rank = None
        self.stack.pop()
        self.text = []

    def _emit(self, cur: _Interaction) -> None:
        where = f"interaction {cur.number} of session {cur.session} (line {cur.line})"
        if not cur.query_id:
            self._fail(f"{where} has no <query_id>")
        ranks = sorted(cur.results)
        if not ranks or ranks != list(range(1, len(ranks) + 1)):
            self._fail(f"{where}: result ranks must be 1..n, got {ranks}")
        unknown = cur.clicked_ranks - set(ranks)
        if unknown:
            self._fail(f"{where}: click on rank(s) {sorted(unknown)} not among the results")
        sid = f"{cur.session}-{cur.number}"
        self.rows += [(sid, cur.query_id, r, cur.results[r], r in cur.clicked_ranks) for r in ranks]


def read_tiangong_sessions(path: str | Path) -> pl.DataFrame:
    """Sessions of a TianGong-ST session XML file; one session per ``<interaction>``
    (``session_id`` = ``<session num>-<interaction num>``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"click log {path} does not exist")
    handler = _TianGongHandler(path)
    parser = xml.sax.make_parser()  # noqa: S317  external entities off below; expat>=2.4 caps entity expansion
    parser.setFeature(xml.sax.handler.feature_external_ges, False)
    parser.setContentHandler(handler)
    try:
        parser.parse(str(path))
    except xml.sax.SAXParseException as exc:
        line = exc.getLineNumber()
        raise ClickLogError(f"{path}:{line}: not well-formed XML: {exc.getMessage()}") from None
    return _frame(handler.rows)
