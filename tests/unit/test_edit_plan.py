"""The edit plan without ffmpeg: dead air and frozen spans become cuts, trims keep scenes whole, cues follow the cuts."""

from __future__ import annotations

import hashlib

import pytest

from trendreel.edit.analyze import analysis_graph, from_render, parse_analysis, recorded_timeline
from trendreel.edit.captions import caption_block, caption_font, highlight_bar
from trendreel.edit.cutter import edit_command, edit_graph, plan_edit, zoom_expr
from trendreel.edit.errors import EditError
from trendreel.edit.plan import (
    Cue,
    Segment,
    dead_spans,
    format_srt,
    frozen_kept,
    keep_segments,
    key_line_span,
    map_time,
    output_length,
    parse_srt,
    removed_by_reason,
    retime_cues,
    scene_units,
    snap,
    trim_to,
)
from trendreel.ids import edited_video_id
from trendreel.settings import EditSettings


def spans(removals):
    return [(round(r.start, 3), round(r.end, 3), r.reason) for r in removals]


def test_long_silence_is_cut_with_a_pause_kept_at_each_side():
    got = dead_spans([(3.0, 5.0)], [], duration=10.0, min_silence_s=0.8, min_freeze_s=2.0, pad_s=0.25)
    assert spans(got) == [(3.25, 4.75, "silence")]
    assert keep_segments(10.0, got) == [Segment(0.0, 3.25), Segment(4.75, 10.0)]


def test_short_pauses_stay_and_edges_are_cut_to_the_end():
    got = dead_spans([(0.0, 1.5), (4.0, 4.5), (8.5, 10.0)], [], duration=10.0, min_silence_s=0.8,
                     min_freeze_s=2.0, pad_s=0.25)
    # the 0.5 s pause stays; silence at the start and the end goes entirely, without padding at the edge
    assert spans(got) == [(0.0, 1.25, "silence"), (8.75, 10.0, "silence")]


def test_silence_and_freeze_are_labelled_where_they_overlap():
    got = dead_spans([(3.0, 7.0)], [(3.0, 5.0), (7.0, 9.0)], duration=11.0, min_silence_s=0.8,
                     min_freeze_s=2.0, pad_s=0.25, cut_frozen="cut")
    assert spans(got) == [(3.25, 5.0, "dead_air"), (5.0, 7.0, "silence"), (7.0, 8.75, "frozen")]
    assert keep_segments(11.0, got) == [Segment(0.0, 3.25), Segment(8.75, 11.0)]
    # frozen picture kept: only the silence goes
    kept = dead_spans([(3.0, 7.0)], [(3.0, 5.0), (7.0, 9.0)], duration=11.0, min_silence_s=0.8,
                      min_freeze_s=2.0, pad_s=0.25, cut_frozen=False)
    assert spans(kept) == [(3.25, 6.75, "silence")]


def test_by_default_a_frozen_picture_is_cut_only_where_its_sound_is_silent_too():
    # a still under narration (7-12 s) stays; a still that goes quiet for 1 s (13-14 s) loses that second,
    # although a silence that short alone would stay (min_silence_s 1.5)
    got = dead_spans([(13.0, 14.0)], [(7.0, 12.0), (12.5, 15.0)], duration=20.0, min_silence_s=1.5,
                     min_freeze_s=2.0, pad_s=0.25)
    assert spans(got) == [(13.25, 13.75, "dead_air")]


def test_animate_cuts_like_silent_and_animates_the_frozen_picture_left_under_speech():
    # frozen 7-15 s; 13-14 s of it silent: that second goes, the rest of the still stays (under speech)
    kwargs = dict(duration=20.0, fps=40, silences=[(13.0, 14.0)], freezes=[(7.0, 15.0)], shot_cuts=[], details={},
                  cues=[], hook=None, target=None)
    silent = plan_edit(**kwargs, settings=EditSettings(frozen="silent", min_silence_s=1.5))
    plan = plan_edit(**kwargs, settings=EditSettings(min_silence_s=1.5))
    assert EditSettings().frozen == "animate"
    assert plan.segments == silent.segments == [Segment(0.0, 13.25), Segment(13.75, 20.0)]
    assert silent.animate == []
    # 7-13.25 s and 13.75-15 s of the source meet at the cut: one stretch of 7.5 s on the edit's timeline
    assert plan.animate == [Segment(7.0, 14.5)] and plan.summary()["animated_s"] == 7.5
    z = zoom_expr(None, 0.0, plan.animate, 0.06)
    # 7.5 s: two rounds of in and out (period 3.75 s), between 7 and 14.5 s only
    assert z == "1+0.06*(1-abs(2*mod((t-7.000)/3.750\\,1)-1))*between(t\\,7.000\\,14.500)"
    args = edit_command("source.mp4", plan, EditSettings(), width=360, height=640, loudnorm=None, out_name="v.mp4")
    assert "mod((t-7.000)/3.750" in args[args.index("-filter_complex") + 1]


def test_frozen_stretches_left_in_the_edit_are_on_its_timeline():
    segs = [Segment(0.0, 3.0), Segment(5.0, 10.0)]
    # a freeze across the cut joins; one inside a segment moves with it; one cut away entirely is gone
    def kept(freezes):
        return [(round(s.start, 6), round(s.end, 6)) for s in frozen_kept(freezes, segs, min_s=0.5)]

    assert kept([(2.0, 6.0), (8.0, 9.8), (3.2, 4.8)]) == [(2.0, 4.0), (6.0, 7.8)]
    assert kept([(2.7, 3.0), (5.0, 5.1)]) == []
    assert kept([(2.7, 3.0), (5.0, 5.3)]) == [(2.7, 3.3)]


def test_the_highlight_bar_goes_under_a_wrapped_caption_as_wide_as_its_widest_line():
    font = caption_font({"plan": {"font": "NanumGothic.ttf"}}, "x")
    one = caption_block("The key line", width=1080, height=1920, font=font)
    two = caption_block("The key line wraps onto\ntwo lines here", width=1080, height=1920, font=font)
    # the block grows upwards from the same foot (libass, bottom-aligned); the bar is under the foot's ink
    assert two.bottom == one.bottom and two.top < one.top and two.lines == ("The key line wraps onto", "two lines here")
    bar = highlight_bar(two, width=1080, height=1920)
    assert bar.y - bar.edge > two.bottom and bar.y + bar.h + bar.edge < 1920
    assert two.right - two.left > one.right - one.left
    assert (bar.x, bar.x + bar.w) == pytest.approx((two.left, two.right), abs=1)


def test_a_freeze_is_a_loose_stretch_holding_a_strict_one():
    # strict (-75 dB): a held frame 3-4.4 s, split by a keyframe, its tail too short to report; the loose
    # (-60 dB) stretch 3-5 s holds it, so 3-5 s is frozen. The loose 7-8 s (a smooth still under a slow
    # zoom) holds no strict stretch: moving.
    log = "\n".join([
        "[Parsed_freezedetect_1 @ 0x1] lavfi.freezedetect.freeze_start: 3",
        "[Parsed_freezedetect_2 @ 0x2] lavfi.freezedetect.freeze_start: 3",
        "[Parsed_freezedetect_1 @ 0x1] lavfi.freezedetect.freeze_end: 4.4",
        "[Parsed_freezedetect_2 @ 0x2] lavfi.freezedetect.freeze_end: 5",
        "[Parsed_freezedetect_2 @ 0x2] lavfi.freezedetect.freeze_start: 7",
        "[Parsed_freezedetect_2 @ 0x2] lavfi.freezedetect.freeze_end: 8",
    ])
    got = parse_analysis(log, 10.0, strict="Parsed_freezedetect_1", loose="Parsed_freezedetect_2")
    assert got.freezes == [(3.0, 5.0)]
    assert "freezedetect=n=-75dB:d=0.5,freezedetect=n=-60dB:d=0.5,scdet" in analysis_graph(EditSettings(), height=1920)
    assert analysis_graph(EditSettings(freeze_noise_db=-50), height=1920).count("freezedetect") == 1


def test_short_freezes_and_tiny_leftovers_are_not_cut():
    assert dead_spans([], [(2.0, 3.5)], duration=10.0, min_silence_s=0.8, min_freeze_s=2.0, pad_s=0.25) == []
    # 0.8 s of silence minus two 0.38 s pads leaves 0.04 s: not worth a cut
    assert dead_spans([(2.0, 2.8)], [], duration=10.0, min_silence_s=0.8, min_freeze_s=2.0, pad_s=0.38) == []


def test_times_map_onto_the_kept_timeline():
    segs = [Segment(0.0, 3.0), Segment(5.0, 8.0)]
    assert map_time(1.0, segs) == 1.0
    assert map_time(4.0, segs) == 3.0  # inside the cut: the cut point
    assert map_time(6.5, segs) == 4.5
    assert map_time(9.0, segs) == 6.0
    assert output_length(segs) == 6.0


def test_cues_follow_the_cuts():
    cues = [Cue(0.5, 2.5, "first"), Cue(3.2, 4.8, "inside the cut"), Cue(2.0, 6.0, "across"), Cue(6.0, 7.5, "after")]
    got = retime_cues(cues, [Segment(0.0, 3.0), Segment(5.0, 8.0)])
    assert [(c.start, c.end, c.text) for c in got] == [(0.5, 2.5, "first"), (2.0, 4.0, "across"), (4.0, 5.5, "after")]


def test_srt_round_trip():
    text = "1\n00:00:00,500 --> 00:00:02,250\n요즘 이삼십대는\n주말마다\n\n2\n00:01:02,000 --> 00:01:03,999\nsecond\n\n"
    cues = parse_srt(text)
    assert cues == [Cue(0.5, 2.25, "요즘 이삼십대는\n주말마다"), Cue(62.0, 63.999, "second")]
    assert format_srt(cues) == text
    assert parse_srt("garbage\n\n1\nno times here\n") == []


def test_key_line_is_the_hook_cues():
    cues = [Cue(0.2, 1.8, "People in their twenties"), Cue(1.8, 3.4, "now run every weekend."),
            Cue(3.9, 6.0, "Running crews are growing.")]
    span, text = key_line_span(cues, "People in their twenties now run every weekend.")
    assert span == Segment(0.2, 3.4) and text == "People in their twenties now run every weekend."
    # no story: the first cue
    assert key_line_span(cues, None)[0] == Segment(0.2, 1.8)
    assert key_line_span([], "hook") is None


def test_trim_drops_trailing_scenes_whole():
    segs = [Segment(0.0, 30.0)]
    units = [Segment(0.0, 8.0), Segment(8.0, 16.0), Segment(16.0, 23.0), Segment(23.0, 30.0)]
    got, removed, notes = trim_to(segs, 20.0, units=units, pauses=[])
    assert got == [Segment(0.0, 16.0)]
    assert [(r.start, r.end, r.reason) for r in removed] == [(23.0, 30.0, "trim"), (16.0, 23.0, "trim")]
    assert len(notes) == 2


def test_trim_cuts_at_a_pause_rather_than_undershooting():
    segs = [Segment(0.0, 30.0)]
    units = [Segment(0.0, 10.0), Segment(10.0, 30.0)]
    pauses = [(12.0, 12.4), (24.8, 25.2), (27.0, 27.4)]
    got, removed, _ = trim_to(segs, 26.0, units=units, pauses=pauses)
    # dropping the 20 s scene would leave 10 s; cutting at the pause at 25 s leaves 25 s
    assert got == [Segment(0.0, 25.0)] and removed[0].start == 25.0


def test_trim_never_drops_the_first_scene_or_the_key_line():
    segs = [Segment(0.0, 12.0)]
    units = [Segment(0.0, 6.0), Segment(6.0, 12.0)]
    got, _, _ = trim_to(segs, 5.0, units=units, pauses=[(4.3, 4.7)], protect=Segment(0.5, 4.0))
    assert got == [Segment(0.0, 4.5)]
    # no pause at all: a hard cut at the target
    got, _, notes = trim_to(segs, 5.0, units=units, pauses=[], protect=Segment(0.5, 4.0))
    assert got == [Segment(0.0, 5.0)] and "middle of the sound" in notes[-1]


def test_trim_counts_only_what_is_kept():
    segs = [Segment(0.0, 4.0), Segment(6.0, 14.0)]  # 12 s kept
    units = [Segment(0.0, 7.0), Segment(7.0, 14.0)]
    got, _, _ = trim_to(segs, 6.0, units=units, pauses=[])
    assert got == [Segment(0.0, 4.0), Segment(6.0, 7.0)] and output_length(got) == 5.0


def test_snap_puts_cuts_on_frames_and_merges():
    got = snap([Segment(0.0, 3.27), Segment(3.28, 5.0), Segment(8.731, 11.0)], 30, 11.0)
    assert got == [Segment(0.0, 5.0), Segment(262 / 30, 11.0)]


def test_removed_seconds_by_reason_add_up():
    duration = 11.0
    removals = dead_spans([(3.0, 7.0)], [(3.0, 5.0)], duration=duration, min_silence_s=0.8, min_freeze_s=2.0, pad_s=0.25)
    segs = snap(keep_segments(duration, removals), 30, duration)
    by = removed_by_reason(duration, segs, removals)
    assert set(by) <= {"dead_air", "silence", "other"}
    assert sum(by.values()) == pytest.approx(duration - output_length(segs), abs=0.01)


def test_scene_units_from_the_render_plan():
    details = {"plan": {"scenes": [{"start_s": 0.0, "duration_s": 8.3}, {"start_s": 8.0, "duration_s": 5.3},
                                   {"start_s": 13.0, "duration_s": 4.0}]}}
    units, source = scene_units(details, 17.0, [])
    assert source == "render plan"
    assert units == [Segment(0.0, 8.15), Segment(8.15, 13.15), Segment(13.15, 17.0)]
    units, source = scene_units({}, 10.0, [4.0, 9.95])
    assert source == "shot detection" and units == [Segment(0.0, 4.0), Segment(4.0, 10.0)]
    assert scene_units({}, 10.0, []) == ([], "none")


def test_analysis_log_is_parsed():
    log = "\n".join([
        "[Parsed_silencedetect_3 @ 0x1] silence_start: 3.008",
        "[Parsed_freezedetect_1 @ 0x2] lavfi.freezedetect.freeze_start: 3",
        "[Parsed_freezedetect_1 @ 0x2] lavfi.freezedetect.freeze_duration: 2",
        "[Parsed_freezedetect_1 @ 0x2] lavfi.freezedetect.freeze_end: 5",
        "[Parsed_silencedetect_3 @ 0x1] silence_end: 7.018542 | silence_duration: 4.010542",
        "[Parsed_scdet_2 @ 0x3] lavfi.scd.score: 21.939, lavfi.scd.time: 6.5",
        "[Parsed_freezedetect_1 @ 0x2] lavfi.freezedetect.freeze_start: 9.5",  # open at the end
    ])
    got = parse_analysis(log, 11.0)
    assert got.silences == [(3.008, 7.018542)] and got.freezes == [(3.0, 5.0), (9.5, 11.0)]
    assert got.shot_cuts == [6.5]
    graph = analysis_graph(EditSettings(), height=1920)
    assert graph.startswith("[0:v]scale=-2:320:flags=area,freezedetect=n=-75dB") and "silencedetect=n=-45dB:d=0.2" in graph


def test_plan_and_filtergraph():
    s = EditSettings(frozen="cut")
    plan = plan_edit(duration=11.0, fps=30, silences=[(3.0, 7.0)], freezes=[(3.0, 5.0), (7.0, 9.0)], shot_cuts=[],
                     details={}, cues=[Cue(0.2, 2.5, "The key line")], hook=None, settings=s, target=None)
    assert plan.segments == [Segment(0.0, 98 / 30), Segment(262 / 30, 11.0)]
    summary = plan.summary()
    assert summary["segments_kept"] == 2 and summary["cuts"] == 1 and summary["segments_removed"] == 1
    assert summary["key_line"] == {"text": "The key line", "start_s": 0.2, "end_s": 2.5}
    args = edit_command("source.mp4", plan, s, width=360, height=640, loudnorm="loudnorm=I=-14", out_name="video.mp4")
    graph = args[args.index("-filter_complex") + 1]
    assert "[0:v]split=2[v0][v1]" in graph and "[c0][d0][c1][d1]concat=n=2:v=1:a=1[cv][ca]" in graph
    assert "trim=start=8.733333:end=11.000000" in graph and "atrim=start=8.733333:end=11.000000" in graph
    assert "eval=frame" in graph and "drawbox" in graph and "loudnorm=I=-14" in graph
    # one segment: no split, no concat of several
    one = edit_graph([Segment(0.0, 5.0)], width=360, height=640, key=None, zoom=0.0, colour="0xFFD400", loudnorm=None)
    assert "split" not in one and "drawbox" not in one


def test_targets_too_short_are_refused():
    s = EditSettings()
    kwargs = dict(duration=20.0, fps=30, silences=[], freezes=[], shot_cuts=[], details={},
                  cues=[Cue(0.2, 6.0, "a long hook")], hook=None, settings=s)
    with pytest.raises(EditError, match="too short: an edited video lasts at least"):
        plan_edit(**kwargs, target=2.0)
    with pytest.raises(EditError, match="key line alone ends at 6.00 s"):
        plan_edit(**kwargs, target=5.0)
    with pytest.raises(EditError, match="nothing is left"):
        plan_edit(**{**kwargs, "silences": [(0.0, 20.0)]}, target=None)


def test_edited_id_depends_on_every_input():
    base = edited_video_id("v1", "cutter", "k", None)
    assert base.startswith("v") and len(base) == 24
    assert base == edited_video_id("v1", "cutter", "k", None)
    assert len({base, edited_video_id("v2", "cutter", "k", None), edited_video_id("v1", "ai", "k", None),
                edited_video_id("v1", "cutter", "k2", None), edited_video_id("v1", "cutter", "k", 20)}) == 5
    assert edited_video_id("v1", "cutter", "k", 20) == edited_video_id("v1", "cutter", "k", 20.0)


def test_a_trim_over_dead_air_counts_each_second_once():
    duration = 11.0
    removals = dead_spans([(3.0, 7.0)], [(3.0, 5.0), (7.0, 9.0)], duration=duration, min_silence_s=0.8,
                          min_freeze_s=2.0, pad_s=0.25, cut_frozen="cut")
    segs, trimmed, _ = trim_to(keep_segments(duration, removals), 4.0, units=[], pauses=[(3.0, 7.0)],
                               protect=Segment(0.2, 2.5))
    segs = snap(segs, 30, duration)
    by = removed_by_reason(duration, segs, removals + trimmed)
    assert output_length(segs) == pytest.approx(3.267, abs=0.001)
    assert by["trim"] == pytest.approx(11.0 - 8.75, abs=0.01)  # up to 8.75 s the picture was frozen anyway
    assert sum(by.values()) == pytest.approx(duration - output_length(segs), abs=0.01)


def test_a_renders_recorded_speech_gives_its_silences():
    timeline = {"speech_s": [[0.3, 2.0], [2.1, 3.5], [4.8, 6.0]], "held_frames": False, "other_sound": False}
    found = from_render(timeline, 8.0)
    # the gap of 0.1 s is no pause (under PAUSE_S); before the first phrase and after the last are silence
    assert found.silences == [(0.0, 0.3), (3.5, 4.8), (6.0, 8.0)]
    assert found.freezes == [] and found.summary()["from"] == "render"


def test_the_recorded_timeline_counts_only_for_the_file_the_render_made(tmp_path):
    video = tmp_path / "video.mp4"
    video.write_bytes(b"the rendered bytes")
    timeline = {"speech_s": [[0.3, 2.0]], "held_frames": False, "other_sound": False,
                "sha256": hashlib.sha256(b"the rendered bytes").hexdigest(), "bytes": video.stat().st_size}
    assert recorded_timeline({"timeline": timeline}, video) == timeline
    assert recorded_timeline({}, video) is None  # an older render, an edit, another tool's video
    video.write_bytes(b"the rendered bytez")  # same size, other bytes
    assert recorded_timeline({"timeline": timeline}, video) is None
    video.write_bytes(b"other")
    assert recorded_timeline({"timeline": timeline}, video) is None
