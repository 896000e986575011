"""SimHash near-duplicate detection."""

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
    "Analysts at two brokerages said the cycle could peak in the second half of next year. "
    "Retail investors have poured money into chip funds, pushing some of them to record sizes. "
    "The central bank said it would watch the effect of the strong currency on other exporters."
)


def test_one_changed_sentence_is_near_and_other_text_is_far():
    copy = BASE.replace("Exporters said orders from data centre builders were booked well into next year.",
                        "Wire services reported that exporters had booked orders well into next year.")
    other = ("The marathon drew a record field of runners along the river on Sunday morning, "
             "and the winner broke the course record by almost a minute in cold and windy weather. ") * 2
    near = dedupe.distance(dedupe.simhash(BASE), dedupe.simhash(copy))
    far = dedupe.distance(dedupe.simhash(BASE), dedupe.simhash(other))
    assert near <= 10 < 20 <= far


def test_identical_text_has_distance_zero_and_signed_round_trip():
    h = dedupe.simhash(BASE)
    assert dedupe.distance(h, dedupe.simhash(BASE)) == 0
    assert dedupe.to_unsigned(dedupe.to_signed(h)) == h
    assert -(1 << 63) <= dedupe.to_signed(h) < (1 << 63)
    assert dedupe.distance(dedupe.to_signed(h), h) == 0


def test_bands_split_the_hash_into_four_16_bit_parts():
    h = 0x1234_5678_9ABC_DEF0
    assert dedupe.bands(h) == (0xDEF0, 0x9ABC, 0x5678, 0x1234)


def test_korean_and_short_texts():
    assert dedupe.simhash("") == 0
    a = dedupe.simhash("20대와 30대 사이에서 겨울 캠핑과 차박을 즐기는 사람이 늘고 있다")
    b = dedupe.simhash("20대와 30대 사이에서 겨울 캠핑과 차박을 즐기는 사람이 크게 늘고 있다")
    assert dedupe.distance(a, b) < dedupe.distance(a, dedupe.simhash("반도체 수출이 석 달 연속 증가했다"))
