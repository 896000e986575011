"""MinHash near-duplicate detection."""

import numpy as np

from trendreel.crawl import dedupe

BASE = (
    "Chip shipments rose for the third month in a row as demand for memory used in AI servers kept growing. "
    "Exporters said orders from data centre builders were booked well into next year. "
    "Equipment makers near the industrial parks are hiring technicians to keep up with the new lines. "
    "Economists warned that the boom depends on a few large customers and could cool if prices fall. "
    "The trade ministry expects the annual total to beat last year's record by a wide margin. "
    "Smaller suppliers say they are still waiting for the orders to reach them. "
    "In the port city, logistics firms added night shifts to move the extra cargo to the airport. "
    "Banks raised their growth forecasts for the region after the latest figures came out on Monday. "
    "Union leaders asked for a share of the profits in next spring's wage talks. "
    "Analysts at two brokerages said the cycle could peak in the second half of next year."
)
OTHER = ("The marathon drew a record field of runners along the river on Sunday morning, and the winner "
         "broke the course record by almost a minute in cold and windy weather while crowds cheered.")


def test_one_changed_sentence_is_similar_and_other_text_is_not():
    copy = BASE.replace("Exporters said orders from data centre builders were booked well into next year.",
                        "Wire services reported that exporters had booked orders well into next year.")
    a, b, c = dedupe.minhash(BASE), dedupe.minhash(copy), dedupe.minhash(OTHER)
    assert dedupe.similarity(a, b) >= 0.7
    assert dedupe.similarity(a, c) < 0.2
    # Near-duplicates share an LSH band; unrelated texts (almost surely) do not.
    assert set(dedupe.bands(a)) & set(dedupe.bands(b))
    assert not set(dedupe.bands(a)) & set(dedupe.bands(c))


def test_signature_is_stable_and_round_trips_through_hex():
    a = dedupe.minhash(BASE)
    assert a.dtype == np.uint32 and a.shape == (dedupe.NUM_PERM,)
    assert np.array_equal(a, dedupe.minhash(BASE))
    assert np.array_equal(dedupe.from_hex(dedupe.to_hex(a)), a)
    assert dedupe.similarity(a, a) == 1.0
    assert all(0 <= k < 2**63 for k in dedupe.bands(a))


def test_korean_and_empty_texts():
    empty = dedupe.minhash("")
    assert dedupe.similarity(empty, dedupe.minhash("   ")) == 1.0
    a = dedupe.minhash("20대와 30대 사이에서 겨울 캠핑과 차박을 즐기는 사람이 늘고 있다 주말마다 캠핑장 예약이 몰린다")
    b = dedupe.minhash("20대와 30대 사이에서 겨울 캠핑과 차박을 즐기는 사람이 크게 늘고 있다 주말마다 캠핑장 예약이 몰린다")
    c = dedupe.minhash("반도체 수출이 석 달 연속 증가했다 AI 서버 수요가 늘었다")
    assert dedupe.similarity(a, b) > dedupe.similarity(a, c)
