"""Choosing each scene's visuals among the trend's media, and validating media of the trend's other items."""

from __future__ import annotations

import numpy as np

from trendreel.settings import StorySettings
from trendreel.story.models import Citation, MediaRef, Scene, Story
from trendreel.story.source import SourceMedia, StoryItem
from trendreel.story.validate import check
from trendreel.story.visuals import Candidate, assign, quality

SENTENCES = ("Winter camping booms", "Bookings for winter campsites doubled this year.",
             "Most campers are in their twenties and thirties.", "Heaters must be switched off at night.",
             "Rental shops send whole kits to campsites.", "Campsites added hot showers.")


def scene(n: int, seconds: float = 4.0, media: str | None = None) -> Scene:
    return Scene(narration=SENTENCES[n], duration_s=seconds, media=[MediaRef(media_id=media, kind="image")] if media else [],
                 citations=[Citation(article_id="a-own", sentence=n, quote=SENTENCES[n])])


def story(scenes: list[Scene], hook: str = "Winter camping booms") -> Story:
    return Story(title="t", hook=hook, scenes=scenes, lang="en", duration_s=30, article_id="a-own", backend="template",
                 model="m", trend_id="t1")


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def media(id: str, kind: str = "image", article: str = "a-other", **kw) -> SourceMedia:
    return SourceMedia(id=id, kind=kind, article_id=article, caption=f"caption of {id}", **kw)


def test_each_scene_gets_its_most_relevant_visual_and_no_neighbour_repeats_one():
    # Five scenes about five directions; five candidates, one per direction, plus a weak one.
    scene_vectors = np.eye(5, dtype=np.float32)
    candidates = [Candidate(media(f"m{i}", width=1080, height=1920), unit(*np.eye(5)[i] + 0.01), own=False)
                  for i in range(5)] + [Candidate(media("weak"), unit(1, 1, 1, 1, 1), own=False)]
    out = assign(story([scene(i) for i in range(1, 6)]), candidates, scene_vectors)
    shown = [[m.media_id for m in s.media] for s in out.scenes]
    assert shown == [["m0"], ["m1"], ["m2"], ["m3"], ["m4"]]


def test_few_candidates_are_alternated_not_repeated_back_to_back():
    scene_vectors = np.tile(unit(1, 0), (5, 1))
    candidates = [Candidate(media("best"), unit(1, 0), own=True), Candidate(media("second"), unit(1, 0.3), own=False),
                  Candidate(media("third"), unit(1, 0.6), own=False)]
    out = assign(story([scene(i) for i in range(1, 6)]), candidates, scene_vectors)
    shown = [s.media[0].media_id for s in out.scenes]
    assert all(a != b for a, b in zip(shown, shown[1:]))
    assert len(set(shown)) == 3  # reuse is penalised: every candidate gets its turn
    # A single medium is shown throughout rather than nothing.
    only = assign(story([scene(1), scene(2)]), candidates[:1], scene_vectors)
    assert [s.media[0].media_id for s in only.scenes] == ["best", "best"]


def test_videos_are_preferred_and_sharp_pictures_beat_small_ones():
    scene_vectors = np.tile(unit(1, 0), (1, 1))
    image = Candidate(media("img", width=1080, height=1920), unit(1, 0), own=False)
    video = Candidate(media("vid", kind="video", duration_s=10.0, width=1080, height=1920), unit(1, 0), own=False)
    out = assign(story([scene(1)]), [image, video], scene_vectors)
    ref = out.scenes[0].media[0]
    assert (ref.media_id, ref.kind, ref.start_s) == ("vid", "video", 0.0) and ref.end_s > 4.0  # the hook is on air too
    assert quality(media("hd", width=1080, height=1920), 4) == 1.0
    assert quality(media("small", width=64, height=48), 4) < 0.1
    assert quality(media("short", kind="video", duration_s=1.0, width=1080, height=1920), 4) < \
        quality(media("long", kind="video", duration_s=8.0, width=1080, height=1920), 4)


def test_a_long_first_scene_with_the_hook_shows_two_visuals_and_a_cited_caption_is_kept():
    scene_vectors = np.tile(unit(1, 0), (2, 1))
    candidates = [Candidate(media(f"m{i}"), unit(1, 0.1 * i), own=False) for i in range(4)]
    first = scene(1, seconds=6.0)
    captioned = Scene(narration="caption of m3", duration_s=3.0, media=[],
                      citations=[Citation(article_id="a-other", media_id="m3", quote="caption of m3")])
    out = assign(story([first, captioned], hook="Winter camping is booming across the country"), candidates,
                 scene_vectors)
    assert len(out.scenes[0].media) == 2 and len({m.media_id for m in out.scenes[0].media}) == 2
    assert [m.media_id for m in out.scenes[1].media] == ["m3"]


def test_validation_accepts_the_trends_media_and_their_captions_as_sources():
    own = SourceMedia(id="m-own", kind="image", caption="Tents in the snow", article_id="a-own")
    other = SourceMedia(id="m-other", kind="image", caption="Campers around a stove", article_id="a-other")
    item = StoryItem(article_id="a-own", title=SENTENCES[0], lang="en", sentences=SENTENCES, media=(own,),
                     related_media=(other,))
    settings = StorySettings(min_scenes=1)
    good = story([Scene(narration=SENTENCES[1], duration_s=4, media=[MediaRef(media_id="m-other", kind="image")],
                        citations=[Citation(article_id="a-own", sentence=1, quote=SENTENCES[1]),
                                   Citation(article_id="a-other", media_id="m-other", quote="Campers around a stove")])])
    assert check(good, item, settings)[1] == []
    wrong_owner = good.model_copy(update={"scenes": [good.scenes[0].model_copy(update={"citations": [
        Citation(article_id="a-own", media_id="m-other", quote="Campers around a stove")]})]})
    assert any("it is item a-other's" in p for p in check(wrong_owner, item, settings)[1])
    stranger = good.model_copy(update={"scenes": [good.scenes[0].model_copy(update={"media": [
        MediaRef(media_id="m-stranger", kind="image")]})]})
    assert any("not a stored image or video of this item or its trend" in p for p in check(stranger, item, settings)[1])


def test_validation_bounds_scene_and_hook_length_and_checks_the_hook():
    item = StoryItem(article_id="a-own", title=SENTENCES[0], lang="en", sentences=SENTENCES)
    settings = StorySettings(min_scenes=1, max_scene_seconds=3, max_hook_seconds=1)
    cited_hook = story([scene(1)], hook="Bookings for winter campsites doubled this year.").model_copy(
        update={"hook_citations": [Citation(article_id="a-own", sentence=3, quote=SENTENCES[3])]})
    problems = check(cited_hook, item, settings)[1]
    assert any("scene 1: narration takes 3.4 s to say; at most 3 s" in p for p in problems)
    assert any("the hook takes 3.4 s to say; at most 1 s" in p for p in problems)
    assert any("the hook is not supported by the sentences it cites" in p for p in problems)
