"""The views-over-time import line: good lines parse into sorted UTC samples, bad ones say which field."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from trendreel.learn.history import History, Sample, load_histories, parse_line, read_jsonl


def line(**changes) -> dict:
    obj = {"id": "v1", "platform": "youtube", "account": "Chan", "title": "A title", "category": "Music",
           "tags": ["a", "b"], "language": "en", "published_at": None,
           "samples": [{"at": "2017-09-14T00:00:00Z", "views": 200, "likes": 20, "comments": 2},
                       {"at": "2017-09-13T00:00:00Z", "views": 100, "likes": None, "comments": None}]}
    obj.update(changes)
    return obj


def test_a_good_line_becomes_a_history_with_sorted_utc_samples():
    h = parse_line(line())
    assert isinstance(h, History) and h.id == "v1" and h.account == "Chan" and h.tags == ("a", "b")
    assert [s.views for s in h.samples] == [100, 200]
    assert h.first == Sample(datetime(2017, 9, 13, tzinfo=timezone.utc), 100, None, None)
    assert h.last.likes == 20 and h.last.comments == 2
    assert all(s.at.tzinfo is not None and s.at.utcoffset().total_seconds() == 0 for s in h.samples)
    assert h.published_at is None


def test_times_with_an_offset_or_none_are_utc():
    h = parse_line(line(published_at="2017-09-12T10:00:00+02:00",
                        samples=[{"at": "2017-09-13T05:30:00", "views": 1}]))
    assert h.published_at == datetime(2017, 9, 12, 8, 0, tzinfo=timezone.utc)
    assert h.first.at == datetime(2017, 9, 13, 5, 30, tzinfo=timezone.utc)


def test_samples_at_the_same_time_collapse_into_the_last_given():
    h = parse_line(line(samples=[{"at": "2017-09-13T00:00:00Z", "views": 5},
                                 {"at": "2017-09-13T00:00:00+00:00", "views": 7}]))
    assert len(h.samples) == 1 and h.first.views == 7


def test_known_at_keeps_the_samples_up_to_that_time():
    h = parse_line(line())
    assert [s.views for s in h.known_at(h.first.at).samples] == [100]
    assert h.known_at(datetime(2000, 1, 1, tzinfo=timezone.utc)).samples == ()


@pytest.mark.parametrize("changes, message", [
    ({"id": None}, "id: missing"),
    ({"id": ""}, "id: missing"),
    ({"id": ["x"]}, "id: expected a string"),
    ({"samples": None}, "samples: missing"),
    ({"samples": {"at": "2017-09-13T00:00:00Z"}}, "samples: expected a list"),
    ({"samples": []}, "samples: empty"),
    ({"samples": ["x"]}, "samples[0]: expected an object"),
    ({"samples": [{"views": 3}]}, "samples[0].at: missing"),
    ({"samples": [{"at": "yesterday", "views": 3}]}, "samples[0].at: not an ISO 8601 time"),
    ({"samples": [{"at": 17, "views": 3}]}, "samples[0].at: expected an ISO 8601 time"),
    ({"samples": [{"at": "2017-09-13T00:00:00Z"}]}, "samples[0].views: missing"),
    ({"samples": [{"at": "2017-09-13T00:00:00Z", "views": -1}]}, "samples[0].views: must not be negative"),
    ({"samples": [{"at": "2017-09-13T00:00:00Z", "views": "12"}]}, "samples[0].views: expected a whole number"),
    ({"samples": [{"at": "2017-09-13T00:00:00Z", "views": 1.5}]}, "samples[0].views: expected a whole number"),
    ({"samples": [{"at": "2017-09-13T00:00:00Z", "views": True}]}, "samples[0].views: expected a whole number"),
    ({"samples": [{"at": "2017-09-13T00:00:00Z", "views": 1, "likes": -2}]}, "samples[0].likes: must not be negative"),
    ({"tags": "music"}, "tags: expected a list of strings"),
    ({"title": 12}, "title: expected a string"),
    ({"published_at": "13/09/2017"}, "published_at: not an ISO 8601 time"),
])
def test_a_bad_line_names_its_bad_field(changes, message):
    with pytest.raises(ValueError) as err:
        parse_line(line(**changes))
    assert message in str(err.value)


def test_a_line_that_is_not_an_object_is_refused():
    with pytest.raises(ValueError, match="expected a JSON object"):
        parse_line(["id", "v1"])


def test_read_jsonl_reports_bad_lines_and_keeps_the_good_ones(tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_bytes(b"\n".join([
        json.dumps(line()).encode(),
        b"{not json",
        b"",
        json.dumps(line(id="v2", samples=[{"at": "2017-09-13T00:00:00Z", "views": -5}])).encode(),
        b"\xff\xfe",
        json.dumps(line(id="v3")).encode(),
    ]))
    got = list(read_jsonl(path))
    assert [n for n, _ in got] == [1, 2, 4, 5, 6]
    assert isinstance(got[0][1], History) and isinstance(got[4][1], History) and got[4][1].id == "v3"
    assert got[1][1].startswith("not JSON")
    assert got[2][1] == "samples[0].views: must not be negative, got -5"
    assert got[3][1].startswith("not UTF-8 text")
    with pytest.raises(ValueError, match=r"h.jsonl:2: not JSON"):
        load_histories(path)
