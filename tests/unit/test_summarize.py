"""Extractive summaries in the article's own language."""

from trendreel.index.summarize import ExtractiveSummarizer, split_sentences

EN = (
    "The city opened its first winter night market on Friday, drawing crowds to the riverside despite the cold. "
    "Stalls sold hot street food, handmade gloves and roasted chestnuts until midnight. "
    "Organisers said the market will run every weekend until the end of February. "
    "Traffic police closed two lanes of the riverside road to make room for the market crowds. "
    "Local shop owners hope the night market will bring visitors back to the old town in the quiet season."
)
KO = (
    "20~30대 사이에서 겨울 캠핑이 인기를 끌고 있다. 수도권 캠핑장의 주말 예약은 열리자마자 마감된다. "
    "캠핑 장비 대여 업체의 매출도 지난해보다 두 배 늘었다. 업계는 차박과 캠핑 수요가 내년에도 이어질 것으로 본다. "
    "다만 안전 사고를 막기 위해 난방 기구 사용에 주의해야 한다는 지적도 나온다."
)


def test_summary_is_made_of_the_articles_own_sentences_within_budget():
    s = ExtractiveSummarizer(max_chars=200)
    summary = s.summarize(EN)
    assert summary and len(summary) <= 260
    for sentence in split_sentences(summary):
        assert sentence in EN
    assert "night market" in summary


def test_korean_summary_stays_korean():
    summary = ExtractiveSummarizer(max_chars=120).summarize(KO)
    assert summary and "캠핑" in summary
    assert all(sentence in KO for sentence in split_sentences(summary))


def test_short_text_gets_no_summary():
    assert ExtractiveSummarizer().summarize("One sentence only. And two.") is None
    assert ExtractiveSummarizer().summarize("") is None
