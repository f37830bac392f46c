"""P8 click models, the world's query log and the click-log readers: EM recovers known PBM/UBM
parameters, hand-worked CTR/SDBN/DBN values, log-likelihood and perplexity by hand, the clicks
facet's behaviour, Yandex and TianGong-ST readers (hand-written and real files)."""

from __future__ import annotations

import hashlib
import io
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from trustir.io.clicklog import (
    ClickLogError,
    ReadStats,
    read_tiangong_sessions,
    read_yandex_condensed,
)
from trustir.ranking.clickmodels import CLICK_MODELS, Sessions
from trustir.ranking.clickmodels.evaluate import log_likelihood, per_query, perplexity, recovery
from trustir.ranking.clickmodels.sdbn import dbn_click_probs
from trustir.ranking.params import ClickModelParams
from trustir.sources.world import generate_world
from trustir.sources.world.clicks import simulate_click_log
from trustir.sources.world.streams import facet_rng

YANDEX = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "yandex_wscd_pyclick_sample"
)
COLS = ["session_id", "query_id", "rank", "doc_id", "clicked"]


def frame(sessions: list[list[tuple[str, bool]]], query: str = "q") -> pl.DataFrame:
    rows = [
        (f"s{i}", query, r, d, c)
        for i, s in enumerate(sessions)
        for r, (d, c) in enumerate(s, start=1)
    ]
    return pl.DataFrame(rows, schema=COLS, orient="row")


def fit(name: str, df: pl.DataFrame, **kw):
    sessions = Sessions.from_frame(df)
    return CLICK_MODELS.get(name)(**kw).fit(sessions), sessions


# -- EM recovers what generated the clicks ------------------------------------------------------
def simulate_pbm(alpha, gamma, n, rng):
    length, rows = len(gamma), []
    for s in range(n):
        docs = rng.permutation(len(alpha))[:length]  # randomised lists: position varies
        clicks = rng.random(length) < alpha[docs] * gamma
        rows += [(f"s{s}", "q", r + 1, f"d{docs[r]}", bool(clicks[r])) for r in range(length)]
    return pl.DataFrame(rows, schema=COLS, orient="row")


def test_pbm_em_recovers_known_parameters_within_0_03():
    rng = np.random.default_rng(0)
    alpha = rng.uniform(0.05, 0.9, 12)
    gamma = np.array([1.0, 0.7, 0.5, 0.35, 0.25])  # gamma_1 = 1 fixes PBM's scale
    model, _ = fit("pbm", simulate_pbm(alpha, gamma, 20000, rng), prior=(1, 2), iterations=200)
    scale = model.gamma[0]  # EM's solution is one point of the (gamma k, alpha / k) ridge
    docs = np.array([int(d[1:]) for _, d in model.keys])
    assert np.abs(model.gamma / scale - gamma).max() < 0.03
    assert np.abs(model.alpha * scale - alpha[docs]).max() < 0.03


def test_ubm_em_recovers_known_parameters_within_0_05():
    rng = np.random.default_rng(1)
    length, n_docs, n = 4, 10, 30000
    alpha = rng.uniform(0.1, 0.8, n_docs)
    # gamma[r, r'] (0-based rank r, last click above at 1-based r', 0 = none); gamma[0, 0] = 1
    gamma = np.zeros((length, length + 1))
    for r in range(length):
        gamma[r, 0] = 0.9**r
        for last in range(1, r + 1):
            gamma[r, last] = 1.0 / (1 + 0.5 * (r + 1 - last))
    gamma[0, 0] = 1.0
    rows = []
    for s in range(n):
        docs = rng.permutation(n_docs)[:length]
        last = 0
        for r in range(length):
            c = rng.random() < alpha[docs[r]] * gamma[r, last]
            rows.append((f"s{s}", "q", r + 1, f"d{docs[r]}", bool(c)))
            last = r + 1 if c else last
    df = pl.DataFrame(rows, schema=COLS, orient="row")
    model, sessions = fit("ubm", df, prior=(1, 2), iterations=200)
    scale = model.gamma[0, 0]
    docs = np.array([int(d[1:]) for _, d in model.keys])
    assert np.abs(model.alpha * scale - alpha[docs]).max() < 0.05
    seen = np.zeros_like(gamma)
    np.add.at(seen, (sessions.ranks(), sessions.previous_click()), 1)
    cells = seen > 2000  # cells with enough observations to be estimated
    assert cells.sum() >= 8
    assert np.abs(model.gamma / scale - gamma)[cells].max() < 0.05


# -- hand-worked values -------------------------------------------------------------------------
def test_ctr_hand_worked_and_its_ll_and_perplexity():
    df = frame(
        [
            [("d1", True), ("d2", False)],
            [("d2", True), ("d1", False)],
            [("d1", True), ("d2", False)],
        ]
    )
    model, sessions = fit("ctr", df, prior=(1, 2))
    rel = dict(zip(model.relevance()["doc_id"], model.relevance()["relevance"], strict=True))
    assert rel["d1"] == pytest.approx((2 + 1) / (3 + 2))  # 2 clicks in 3 impressions
    assert rel["d2"] == pytest.approx((1 + 1) / (3 + 2))
    ll = (4 * math.log(0.6) + 2 * math.log(0.4)) / 6
    assert log_likelihood(model, sessions) == pytest.approx(ll)
    # each rank saw two results predicted right at 0.6 and one at 0.4
    assert perplexity(model, sessions) == pytest.approx(
        2 ** -((2 * math.log2(0.6) + math.log2(0.4)) / 3)
    )
    pq = per_query(model, sessions)
    assert pq["LL"][0] == pytest.approx(ll)


def test_sdbn_hand_worked():
    df = frame(
        [
            [("d1", True), ("d2", False)],  # last click d1: d2 not examined
            [("d1", False), ("d2", True)],
            [("d1", True), ("d2", True)],  # last click d2
            [("d1", False), ("d2", False)],  # no click: both examined
        ]
    )
    model, _ = fit("sdbn", df, prior=(1, 2))
    rel = model.relevance()
    got = dict(zip(rel["doc_id"], rel["relevance"], strict=True))
    # d1: 2 clicks / 4 examinations -> 3/6; last click 1 of 2 clicks -> 2/4
    assert got["d1"] == pytest.approx(0.5 * 0.5)
    # d2: 2 clicks / 3 examinations -> 3/5; last click 2 of 2 -> 3/4
    assert got["d2"] == pytest.approx(0.6 * 0.75)
    assert rel["impressions"].to_list() == [4, 4]


def test_dbn_forward_pass_by_hand():
    a, s = np.array([[0.5, 0.6], [0.5, 0.6]]), np.array([[0.5, 0.75], [0.5, 0.75]])
    clicks = np.array([[True, False], [False, True]])
    cond, marg = dbn_click_probs(a, s, clicks, np.ones_like(clicks), continuation=1.0)
    assert cond[0].tolist() == pytest.approx([0.5, 0.6 * 0.5])  # after a click: 1 - s = 0.5
    assert cond[1, 1] == pytest.approx(0.6)  # a skip at full examination keeps examining
    assert marg[0].tolist() == pytest.approx([0.5, 0.6 * (1 - 0.5 * 0.5)])


def test_every_registered_model_fits_predicts_and_recovers_relevance():
    assert CLICK_MODELS.names() == sorted(ClickModelParams().models)  # the default fits all
    rng = np.random.default_rng(2)
    alpha = np.linspace(0.05, 0.85, 8)
    df = simulate_pbm(alpha, np.array([1.0, 0.6, 0.4]), 4000, rng)
    truth = pl.DataFrame(
        {"query_id": ["q"] * 8, "doc_id": [f"d{i}" for i in range(8)], "relevance": list(range(8))}
    )
    for name in CLICK_MODELS:
        model, sessions = fit(name, df, prior=(1, 2), iterations=30)
        cond, marg = model.click_probs(sessions)
        assert cond.shape == marg.shape == sessions.clicks.shape
        assert (cond >= 0).all() and (cond <= 1).all() and (marg <= 1).all()
        assert -1 < log_likelihood(model, sessions) < 0 and 1 < perplexity(model, sessions) < 2
        assert recovery(model, truth)["spearman"] > 0.9, name


def test_unseen_pairs_take_the_prior_mean():
    model, _ = fit("pbm", frame([[("d1", True), ("d2", False)]]), prior=(1, 4))
    other = Sessions.from_frame(frame([[("new", False), ("d1", True)]]))
    cond, _ = model.click_probs(other)
    assert cond[0, 0] == pytest.approx(0.25 * model.gamma[0])


def test_bad_session_ranks_are_named():
    df = pl.DataFrame(
        [("s1", "q", 1, "a", True), ("s1", "q", 3, "b", False)], schema=COLS, orient="row"
    )
    with pytest.raises(ValueError, match="session 's1': ranks must be 1..n"):
        Sessions.from_frame(df)


# -- the world's query log ------------------------------------------------------------------------
def _parquet_hash(df: pl.DataFrame) -> str:
    buf = io.BytesIO()
    df.write_parquet(buf)
    return hashlib.sha256(buf.getvalue()).hexdigest()


@pytest.fixture(scope="module")
def small_world():
    return generate_world(scale=0.15, seed=5)


def _log(world, seed=5, **kw):
    corpus, queries = world["corpus"], world["queries"]
    truth = world["qrels"].filter(pl.col("source") == "world")
    levels = corpus.select("doc_id", "domain").join(world["domains"], on="domain")
    return simulate_click_log(queries, corpus, truth, levels, facet_rng(seed, "clicks"), **kw)


def test_click_log_is_seeded_and_leaves_world_tables_unchanged(small_world):
    before = {k: _parquet_hash(v) for k, v in small_world.items()}
    a, b = _log(small_world), _log(small_world)
    assert a.equals(b)
    again = generate_world(scale=0.15, seed=5)
    assert {k: _parquet_hash(v) for k, v in again.items()} == before
    n = a.group_by("query_id").agg(pl.col("seq").max() + 1)
    freq = small_world["queries"].select("query_id", "freq")
    joined = n.join(freq, on="query_id")
    assert (joined["seq"] == joined["freq"].clip(1, 2000)).all()  # sessions = freq


def test_clicks_follow_grade_position_and_authority(small_world):
    log = _log(small_world, explore=1.0, continuation=1.0, sessions_per_freq=20.0)
    truth = (
        small_world["qrels"]
        .filter(pl.col("source") == "world")
        .select("query_id", "doc_id", "relevance")
    )
    levels = (
        small_world["corpus"].select("doc_id", "domain").join(small_world["domains"], on="domain")
    )
    d = log.join(truth, on=["query_id", "doc_id"], how="left").with_columns(
        pl.col("relevance").fill_null(0)
    )
    d = d.join(levels.select("doc_id", "level"), on="doc_id")
    first = d.filter(pl.col("rank") == 1)  # always examined: CTR = attractiveness
    ctr = dict(first.group_by("relevance").agg(pl.col("clicked").mean()).iter_rows())
    assert ctr[0] < 0.1 < ctr[1] < ctr[3] and ctr[2] > ctr[1]
    graded3 = first.filter(pl.col("relevance") == 3)
    hi = graded3.filter(pl.col("level") >= 4)["clicked"].mean()
    lo = graded3.filter(pl.col("level") <= 2)["clicked"].mean()
    assert hi > lo + 0.1  # authority raises attractiveness (0.7 * 1.15+ vs 0.7 * 0.85-)
    by_rank = d.group_by("rank").agg(pl.col("clicked").mean()).sort("rank")["clicked"]
    assert by_rank[0] > by_rank[-1]  # the cascade's position bias


# -- readers ------------------------------------------------------------------------------------
def test_yandex_reader_on_hand_written_lines(tmp_path):
    f = tmp_path / "sample"
    f.write_text("7_1\t11,12,13 : 12 , 99; 7_1\t11,13,12 :;  \n\n8_2\t21,22 : 21 , 21  ;  \n")
    stats = ReadStats()
    df = read_yandex_condensed(f, stats=stats)
    assert df.columns == COLS
    assert df.rows() == [
        ("sample:1:1", "7_1", 1, "11", False),
        ("sample:1:1", "7_1", 2, "12", True),
        ("sample:1:1", "7_1", 3, "13", False),
        ("sample:1:2", "7_1", 1, "11", False),
        ("sample:1:2", "7_1", 2, "13", False),
        ("sample:1:2", "7_1", 3, "12", False),
        ("sample:3:1", "8_2", 1, "21", True),
        ("sample:3:1", "8_2", 2, "22", False),
    ]
    assert stats.sessions == 3 and stats.dropped_clicks == 1  # 99 was never shown
    assert read_yandex_condensed(f, max_sessions=1)["session_id"].n_unique() == 1


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (
            "1_1\t5,6 : 5\n2_1 5,6 : 5\n",
            r"sample:2: session 1: expected '<query>\\t<docs> : <clicks>'",
        ),
        ("1_1\t5,6 : 5; 1_1\t5,6 5\n", r"sample:1: session 2: no ':'"),
        ("1_1\t5,,6 : 5\n", r"sample:1: session 1: empty document id"),
    ],
)
def test_yandex_reader_names_file_line_and_rule(tmp_path, text, rule):
    (tmp_path / "sample").write_text(text)
    with pytest.raises(ClickLogError, match=rule):
        read_yandex_condensed(tmp_path / "sample")


@pytest.mark.skipif(not YANDEX.is_dir(), reason="../shared/data/yandex_wscd_pyclick_sample absent")
def test_yandex_reader_on_the_real_sample():
    stats = ReadStats()
    train = read_yandex_condensed(YANDEX / "trainSample", stats=stats)
    assert stats.sessions == 35064 and train["query_id"].n_unique() == 20  # as its README says
    assert train.height == 35064 * 10
    test = read_yandex_condensed(YANDEX / "testSample")
    assert test["session_id"].n_unique() == 21413
    model = CLICK_MODELS.get("pbm")(iterations=20).fit(Sessions.from_frame(train))
    assert 1.0 < perplexity(model, Sessions.from_frame(test)) < 1.6


TIANGONG = """<?xml version="1.0" encoding="utf-8"?>
<tiangong2018>
<session num="7">
  <interaction num="1">
    <query_id>q12</query_id>
    <query>天工 test</query>
    <results>
      <result rank="1"><docid>d5</docid><url>http://a</url><title>t</title></result>
      <result rank="2"><docid>d9</docid><url>http://b</url><title>t</title></result>
    </results>
    <clicked>
      <click num="1"><rank>2</rank><docid>d9</docid><timestamp>1</timestamp></click>
    </clicked>
  </interaction>
  <interaction num="2">
    <query_id>q13</query_id>
    <results>
      <result rank="1"><docid>d1</docid></result>
    </results>
  </interaction>
</session>
</tiangong2018>
"""


def test_tiangong_reader_on_a_hand_written_file(tmp_path):
    f = tmp_path / "sessions.xml"
    f.write_text(TIANGONG, encoding="utf-8")
    assert read_tiangong_sessions(f).rows() == [
        ("7-1", "q12", 1, "d5", False),
        ("7-1", "q12", 2, "d9", True),
        ("7-2", "q13", 1, "d1", False),
    ]


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        (
            '<result rank="2">',
            '<result rank="3">',
            r"sessions.xml:\d+: interaction 1 of session 7 \(line 4\): result ranks must be 1..n",
        ),
        ("<rank>2</rank>", "<rank>5</rank>", r"click on rank\(s\) \[5\] not among the results"),
        (
            "<query_id>q13</query_id>",
            "",
            r"interaction 2 of session 7 \(line 15\) has no <query_id>",
        ),
        (
            "</results>\n    <clicked>",
            "</results>\n    <clicked",
            r"sessions.xml:12: not well-formed XML",
        ),
        (
            '<result rank="1"><docid>d5',
            '<result rank="x"><docid>d5',
            r"sessions.xml:8: <result rank> must be an integer, got \'x\'",
        ),
    ],
)
def test_tiangong_reader_names_file_line_and_rule(tmp_path, old, new, rule):
    f = tmp_path / "sessions.xml"
    f.write_text(TIANGONG.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ClickLogError, match=rule):
        read_tiangong_sessions(f)
