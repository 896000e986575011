"""Trend detection on arrays: windows, grouping, chains, scores, texts and ids (no database)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timezone

import numpy as np
import pytest

from trendreel.errors import ConfigError
from trendreel.ids import trend_id
from trendreel.settings import load_settings
from trendreel.trends.cluster import cluster_window, measured_time_bonus
from trendreel.trends.core import TrendInput, TrendParams, detect, recency, window_burst, window_score
from trendreel.trends.phrases import Background, age_decades, common_age_group, item_words, key_phrases, words
from trendreel.trends.text import short_title, trend_line
from trendreel.trends.windows import window_index
from trendreel.units import format_window, parse_window

DAY = 86400
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp()
DIM = 64


# ---- windows ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, seconds", [("30m", 1800), ("6h", 21600), ("24h", 86400), ("7d", 604800), (" 2H ", 7200)])
def test_windows_parse_from_number_and_unit(text, seconds):
    assert parse_window(text) == seconds


@pytest.mark.parametrize("text", ["", "24", "h", "1.5h", "24 hours", "0m", "100d"])
def test_bad_windows_name_the_setting_and_give_examples(text):
    with pytest.raises(ConfigError) as err:
        parse_window(text, setting="--window")
    assert "--window" in str(err.value) and "24h" in str(err.value)


def test_a_bad_window_in_the_settings_is_a_config_error_naming_the_field():
    with pytest.raises(ConfigError, match=r"trends\.window: '3x'.*30m, 6h, 24h, 7d"):
        load_settings(trends={"window": "3x"})
    with pytest.raises(ConfigError, match=r"trends\.text_backend: language model backend 'llm' is not known; known: llamacpp, openai"):
        load_settings(trends={"text_backend": "llm"})


def test_windows_are_aligned_to_the_epoch_so_an_item_always_falls_in_the_same_one():
    times = np.array([T0, T0 + DAY - 1, T0 + DAY, T0 + 3.5 * DAY])
    assert window_index(times, DAY).tolist() == [T0 // DAY, T0 // DAY, T0 // DAY + 1, T0 // DAY + 3]
    assert format_window(86400) == "1d" and format_window(21600) == "6h" and format_window(1800) == "30m"


# ---- synthetic items ------------------------------------------------------------------------------


def topic_vectors(rng, centre, n, spread=0.5):
    """n unit vectors around `centre`, pairwise cosine about 1 / (1 + spread**2)."""
    noise = rng.standard_normal((n, DIM))
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    v = centre + spread * noise
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def unit(rng):
    v = rng.standard_normal(DIM)
    return v / np.linalg.norm(v)


def make_corpus(days=6, seed=0):
    """A topic that grows (1, 1, 2, 3, 5, 8 a day), a steady one (3 a day), and unrelated items."""
    rng = np.random.default_rng(seed)
    growing, steady = unit(rng), unit(rng)
    rows = []  # (id, time, vector, title, lang, topic, source)
    for day in range(days):
        for k in range([1, 1, 2, 3, 5, 8][day]):
            rows.append((f"g{day}{k}", T0 + day * DAY + 3600 * (k + 1), topic_vectors(rng, growing, 1)[0],
                         f"캠핑장 예약 전쟁 {day}{k}…20~30대 차박 인기" if k % 2 else f"주말 캠핑장 예약 마감 {day}{k}", "ko",
                         "growing", f"outlet-{k % 3}"))
        for k in range(3):
            rows.append((f"s{day}{k}", T0 + day * DAY + 7200 * (k + 1), topic_vectors(rng, steady, 1)[0],
                         f"Weekly council budget meeting report {day}{k}", "en", "steady", "outlet-9"))
        for k in range(4):
            rows.append((f"u{day}{k}", T0 + day * DAY + 5000 * (k + 1), unit(rng), f"Unrelated story {day}{k}", "en",
                         None, "outlet-5"))
    ids, times, vectors, titles, langs, topics, sources = zip(*rows)
    data = TrendInput(ids=list(ids), times=np.array(times), vectors=np.stack(vectors), titles=list(titles),
                      langs=list(langs), sources=list(sources),
                      categories=["life" if t == "growing" else "politics" if t == "steady" else None for t in topics])
    return data, list(topics)


def params(**kw):
    return replace(TrendParams(window_s=DAY, cluster_similarity=0.5, link_similarity=0.45, min_items=2), **kw)


# ---- grouping ----------------------------------------------------------------------------------------


def test_a_window_is_grouped_by_meaning_and_outliers_stay_alone():
    rng = np.random.default_rng(1)
    a, b = unit(rng), unit(rng)
    vectors = np.concatenate([topic_vectors(rng, a, 5), topic_vectors(rng, b, 4), [unit(rng)]]).astype(np.float32)
    labels = cluster_window(vectors, similarity=0.5)
    assert labels.tolist() == [0] * 5 + [1] * 4 + [2]


def test_a_window_larger_than_the_limit_is_grouped_in_parts_with_the_same_result():
    rng = np.random.default_rng(2)
    a, b = unit(rng), unit(rng)
    vectors = np.concatenate([topic_vectors(rng, a, 30), topic_vectors(rng, b, 30)]).astype(np.float32)
    order = rng.permutation(60)
    whole = cluster_window(vectors[order], similarity=0.5)
    parts = cluster_window(vectors[order], similarity=0.5, max_items=20)
    assert len(set(whole.tolist())) == len(set(parts.tolist())) == 2
    assert (whole == parts).all()


def desk_stream(seed=3, *, shuffled=False):
    """A live desk: 10 days of 6 stories a day, each story's 4 short posts minutes apart and only loosely
    alike in words (cosine about 0.4); with `shuffled`, the same posts at random times of the 10 days."""
    rng = np.random.default_rng(seed)
    ids, times, vectors, story = [], [], [], []
    for day in range(10):
        for k in range(6):
            start = T0 + day * DAY + 7200 * (k + 2)
            for m, v in enumerate(topic_vectors(rng, unit(rng), 4, spread=1.2)):
                ids.append(f"d{day}s{k}p{m}")
                times.append(start + 300 * m)
                vectors.append(v)
                story.append(f"{day}-{k}")
    times = np.array(times)
    if shuffled:
        times = T0 + rng.uniform(0, 10 * DAY, size=len(times))
    data = TrendInput(ids=ids, times=times, vectors=np.stack(vectors), titles=[f"post {i}" for i in ids])
    return data, story


def test_the_time_bonus_is_measured_on_the_stream_and_is_none_where_close_items_are_unrelated():
    for shuffled, wanted in ((False, lambda b: b >= 0.1), (True, lambda b: b <= 0.02)):
        data, _ = desk_stream(shuffled=shuffled)
        order = np.argsort(data.times)
        bonus = measured_time_bonus(data.vectors[order], data.times[order], np.ones(len(order), bool), 1200)
        assert wanted(bonus), (shuffled, bonus)
    # Crawl times are not publication times: no bonus from them.
    data, _ = desk_stream()
    assert measured_time_bonus(data.vectors, data.times, np.zeros(len(data), bool), 1200) == 0.0


def test_a_desk_s_stories_posted_minutes_apart_are_found_with_the_measured_bonus_and_not_by_words_alone():
    data, story = desk_stream()

    def whole_stories(found):
        return sum(1 for t in found if len({story[e.index] for e in t.evidence}) == 1 and len(t.evidence) == 4)

    measured = detect(data, params(link_similarity=0.55, max_trends=1000))
    words_only = detect(data, params(link_similarity=0.55, max_trends=1000, time_bonus=0.0))
    assert whole_stories(measured) >= 50 and whole_stories(words_only) <= 10, (whole_stories(measured), whole_stories(words_only))
    assert all(len({story[e.index] for e in t.evidence}) == 1 for t in measured)  # no two stories mixed


# ---- chains, scores, ids ---------------------------------------------------------------------------


def test_a_growing_topic_becomes_the_top_trend_with_one_history_entry_per_window():
    data, topics = make_corpus()
    trends = detect(data, params(), until=T0 + 6 * DAY)
    top = trends[0]
    members = [topics[e.index] for e in top.evidence]
    assert set(members) == {"growing"} and len(members) == topics.count("growing")
    assert [h.items for h in top.history] == [1, 1, 2, 3, 5, 8]
    assert [h.window_start for h in top.history] == [(T0 // DAY + d) * DAY for d in range(6)]
    assert top.burst > 1.5 and top.spread == 3 and top.category == "life" and top.lang == "ko"
    assert top.first_seen == min(data.times[i] for i, t in enumerate(topics) if t == "growing")
    # The steady topic is found too, but does not grow: lower burst, lower score.
    steady = next(t for t in trends if {topics[e.index] for e in t.evidence} == {"steady"})
    assert steady.burst < top.burst and steady.score < top.score
    # Unrelated items are in no trend.
    assert not any(topics[e.index] is None for t in trends for e in t.evidence)


def test_evidence_is_ordered_by_similarity_to_the_centre():
    data, _ = make_corpus()
    top = detect(data, params())[0]
    sims = [e.similarity for e in top.evidence]
    assert sims == sorted(sims, reverse=True) and all(0 < s <= 1 for s in sims)
    recomputed = data.vectors[[e.index for e in top.evidence]] @ top.centroid
    assert np.allclose(recomputed, sims, atol=1e-3)


def test_trend_ids_are_stable_across_runs_and_when_later_items_arrive():
    data, topics = make_corpus()
    first = {t.id for t in detect(data, params())}
    assert first == {t.id for t in detect(data, params())}
    # The same items in another order give the same trends.
    order = np.random.default_rng(5).permutation(len(data))
    shuffled = TrendInput(ids=[data.ids[i] for i in order], times=data.times[order], vectors=data.vectors[order],
                          titles=[data.titles[i] for i in order], langs=[data.langs[i] for i in order])
    assert first == {t.id for t in detect(shuffled, params())}
    # Only the first four days: the growing topic's trend already has the id it keeps later.
    early = np.flatnonzero(data.times < T0 + 4 * DAY)
    subset = TrendInput(ids=[data.ids[i] for i in early], times=data.times[early], vectors=data.vectors[early],
                        titles=[data.titles[i] for i in early])
    growing_id = next(t.id for t in detect(data, params()) if topics[t.evidence[0].index] == "growing")
    assert growing_id in {t.id for t in detect(subset, params())}
    assert re.fullmatch(r"t[0-9a-f]{23}", growing_id)


def test_trend_id_comes_from_the_first_window_start_and_the_earliest_item():
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert trend_id(start, "a1") == trend_id(start.astimezone(), "a1")
    assert trend_id(start, "a1") != trend_id(start, "a2")
    data, topics = make_corpus()
    top = detect(data, params())[0]
    # Its first group is day 2 (the first day with two items); day 0 and 1 are its beginnings.
    assert top.id == trend_id(datetime.fromtimestamp((T0 // DAY + 2) * DAY, timezone.utc), "g20")


def test_groups_that_run_side_by_side_merge_into_one_trend():
    rng = np.random.default_rng(3)
    centre = unit(rng)
    # Two groups per day that share a topic but are each tighter among themselves (two languages, say).
    side = [unit(rng), unit(rng)]
    rows = []
    for day in range(3):
        for half in range(2):
            base = centre + 0.6 * side[half]
            base /= np.linalg.norm(base)
            for k in range(3):
                rows.append((f"{half}{day}{k}", T0 + day * DAY + 1000 * k + half, topic_vectors(rng, base, 1, 0.3)[0]))
    ids, times, vectors = zip(*rows)
    data = TrendInput(ids=list(ids), times=np.array(times), vectors=np.stack(vectors), titles=["x"] * len(ids))
    split = detect(data, params(cluster_similarity=0.8, link_similarity=0.9))
    merged = detect(data, params(cluster_similarity=0.8, link_similarity=0.6))
    assert len(split) == 2 and len(merged) == 1 and merged[0].item_count == 18


def test_the_score_formula():
    assert window_burst(4, background=0, lookback=7) == 4.0
    assert window_burst(4, background=7, lookback=7) == 2.0
    assert window_burst(4, background=3, lookback=0) == 1.0  # nothing earlier in range to compare with
    assert window_score(3, burst=2.0, sources=4) == pytest.approx(2.0 * 2.0 * 3.0)
    assert recency(48 * 3600, half_life_h=48) == pytest.approx(0.5)
    assert recency(-5, half_life_h=48) == 1.0


def test_an_older_burst_scores_lower_than_the_same_burst_now():
    data, _ = make_corpus()
    now = detect(data, params(), until=T0 + 6 * DAY)[0]
    later = detect(data, params(), until=T0 + 10 * DAY)[0]
    assert later.id == now.id and later.score == pytest.approx(now.score * 0.5 ** 2, rel=0.05)


def test_max_trends_keeps_the_best():
    data, _ = make_corpus()
    assert len(detect(data, params(max_trends=1))) == 1


def test_input_checks():
    with pytest.raises(ValueError, match="titles has 1 entries for 2 items"):
        TrendInput(ids=["a", "b"], times=[0, 1], vectors=np.ones((2, 4)), titles=["x"])
    with pytest.raises(ValueError, match="unique"):
        TrendInput(ids=["a", "a"], times=[0, 1], vectors=np.ones((2, 4)), titles=["x", "y"])
    assert detect(TrendInput(ids=[], times=[], vectors=np.zeros((0, 4)), titles=[])) == []


# ---- words, phrases, text ----------------------------------------------------------------------------


def test_korean_words_lose_particles_and_predicates_drop_out():
    runs = words("차 안에서 하룻밤…'나 홀로 차박' 즐기는 30대 늘었다", "ko")
    flat = [key for run in runs for key, _ in run]
    assert "차박" in flat and "늘었다" not in flat and "30대" not in flat
    assert [k for run in words("반도체 수출이 HBM이 끌었다", "ko") for k, _ in run] == ["반도체", "수출", "hbm"]


def test_english_words_drop_stop_words_keep_names_and_acronyms():
    runs = words("LUMINA's first world tour sells out in minutes", "en")
    assert runs[0][0] == ("lumina", "LUMINA")
    pairs = [(k1, k2) for run in runs for (k1, _), (k2, _) in zip(run, run[1:])]
    assert ("world", "tour") in pairs and ("tour", "sell") in pairs
    assert ("sell", "minute") not in pairs  # "out in" stood between them


def test_key_phrases_are_what_the_group_says_often_and_the_rest_rarely():
    group = [item_words(t, "", "ko") for t in (
        "겨울에도 식지 않는 캠핑 열기…2030 '동계 캠핑' 검색량 급증",
        "주말 캠핑장 예약 '하늘의 별 따기'…2030 이용객 두 배로",
        "텐트부터 버너까지 빌려 쓴다…캠핑 장비 대여 서비스 '호황'")]
    others = [item_words(t, "", "ko") for t in ("주말 나들이 차량 몰려", "반도체 수출 급증", "장비 투자 확대")]
    phrases = key_phrases(group, Background(w.keys() for w in group + others))
    assert phrases[0].text == "캠핑" and phrases[0].items == 3
    text = " ".join(w for item in group for w in item.title.values())
    assert all(p.text in text for p in phrases)


def test_a_pair_replaces_its_words_when_it_is_in_most_of_their_items():
    group = [item_words(t, "", "en") for t in ("Chip exports surge again", "Chip exports hit a record",
                                                 "Record chip exports lift trade")]
    phrases = key_phrases(group, Background(w.keys() for w in group))
    assert phrases[0].text == "chip exports"


def test_age_groups_are_read_from_korean_and_english():
    assert age_decades("20~30대 캠핑 인기") == {20, 30}
    assert age_decades("2030 이용객 두 배") == {20, 30}
    assert age_decades("2030년까지 목표") == set()
    assert age_decades("Koreans in their 20s and 30s") == {20, 30}
    assert common_age_group(["20~30대 캠핑", "30대 차박", "여행"]) == (30, 30)
    assert common_age_group(["20~30대 캠핑", "2030 차박", "in their 20s"]) == (20, 30)
    assert common_age_group(["20대", "여행"]) is None


def test_trend_lines_per_language():
    # The central headline, shortened, is the line; a shared age group is said first.
    assert trend_line(lang="ko", phrases=["캠핑", "차박"], ages=(20, 30), burst=2.0,
                      central_title="[속보] 겨울에도 식지 않는 캠핑 열기…2030 '동계 캠핑' 검색량 급증") == \
        "20~30대 사이에서 화제: 겨울에도 식지 않는 캠핑 열기"
    assert trend_line(lang="en", phrases=["chip exports", "semiconductor"], ages=None, burst=3.0,
                      central_title="Chip exports hit a record as AI demand grows - Korea Times") == \
        "Chip exports hit a record as AI demand grows"
    assert trend_line(lang="en", phrases=["camping"], ages=(20, 30), burst=3.0,
                      central_title="theres a camping boom this winter") == \
        "Talked about by people in their 20s and 30s: Theres a camping boom this winter"
    # Without a usable headline the key phrases make the line.
    assert trend_line(lang="ko", phrases=["캠핑", "차박"], ages=(20, 30), burst=2.0, central_title="t") == \
        "20~30대 사이에서 캠핑·차박 관심 급증"
    assert trend_line(lang="ko", phrases=["캠핑", "차박"], ages=None, burst=1.0, central_title="") == "캠핑·차박 꾸준한 관심"
    assert trend_line(lang="en", phrases=["camping", "car camping"], ages=(20, 30), burst=3.0, central_title="t") == \
        "Camping and car camping on the rise among people in their 20s and 30s"
    assert trend_line(lang="en", phrases=["LUMINA"], ages=None, burst=1.0,
                      central_title="LUMINA sells out: dates added") == "LUMINA sells out"
    assert trend_line(lang="ja", phrases=["キャンプ", "車中泊"], ages=None, burst=2.0, central_title="週末") == \
        "キャンプ · 車中泊 — 週末"


def test_short_titles_cut_at_the_first_break_or_a_word():
    assert short_title("겨울에도 식지 않는 캠핑 열기…2030 '동계 캠핑' 검색량 급증") == "겨울에도 식지 않는 캠핑 열기"
    long = "word " * 30
    assert len(short_title(long)) <= 61 and short_title(long).endswith("…")


def test_detected_texts_only_use_words_of_the_items():
    data, topics = make_corpus()
    top = detect(data, params())[0]
    assert top.text.startswith("20~30대 사이에서 ")
    central = data.titles[top.evidence[0].index]
    assert top.text.split(": ", 1)[1] in central
    titles = " ".join(data.titles[e.index] for e in top.evidence)
    assert top.key_phrases and all(p in titles for p in top.key_phrases)


def test_a_detected_trend_continues_the_stored_trend_of_the_same_event():
    from trendreel.trends.identity import continued_ids

    stored = {"tA": {"1", "2", "3", "4"}, "tB": {"7", "8"}}
    detected = {"tnew": {"2", "3", "4", "5", "6"},  # 3 of stored A's 4 items: the same event
                "tB": {"8", "9", "10", "11", "12"},  # shares 1 of B's 2 (half of the smaller set): continues B
                "tother": {"20", "21"}}
    assert continued_ids(detected, stored) == {"tnew": "tA", "tB": "tB", "tother": "tother"}
    # Two detected trends on one stored event: the larger overlap keeps the id, the other gets its own.
    split = continued_ids({"tA": {"1"}, "tX": {"1", "2", "3"}}, {"tA": {"1", "2", "3", "4"}})
    assert split["tX"] == "tA" and split["tA"] not in {"tA", "tX"}
