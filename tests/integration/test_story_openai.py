"""The OpenAI-compatible story backend against a real local HTTP server with scripted answers.

Covers the request it sends (JSON schema with enums, the API key), retries on invalid output with
the problems fed back, and the clear errors: invalid every time, unknown media, server down, HTTP
errors, timeouts.
"""

from __future__ import annotations

import json
import socket

import pytest

from tests.chatserver import ChatServer, Fail, Reply, Stall
from trendreel.errors import ConfigError, LlmError, StoryInvalid
from trendreel.settings import LlmSettings, StorySettings
from trendreel.story.llm import LlmStoryWriter, parse_answer
from trendreel.story.openai_http import OpenAIChat
from trendreel.story.source import SourceMedia, StoryItem, TrendBrief

KEY = "sk-story-test-0123456789"
SENTENCES = (
    "Seoul Riverside Marathon draws record field of 40,000 runners",
    "Organisers closed registration three weeks early after 40,000 runners signed up.",
    "More than half of the entrants are running a full marathon for the first time.",
    "Running clubs that meet after work along the river have multiplied over the past two years.",
    "Several roads will be closed from early morning on race day.",
)
ITEM = StoryItem(article_id="a-run", title=SENTENCES[0], lang="en", sentences=SENTENCES,
                 media=(SourceMedia(id="m-img", kind="image", caption="Runners train along the river at dawn"),
                        SourceMedia(id="m-vid", kind="video", caption="The start line", duration_s=4.0)))
TREND = TrendBrief(id="t-run", text="Marathon running booms among young adults", lang="en")


def answer(*, media=("m-img", "m-vid", "m-img"), narrations=None, sentences=(1, 2, 4)) -> str:
    narrations = narrations or ["Registration closed three weeks early after 40,000 runners signed up.",
                                "More than half of the entrants run a full marathon for the first time.",
                                "Several roads will be closed on race day."]
    scenes = [{"sentences": [s], "narration": n, "on_screen_text": "", "media": [m]}
              for s, n, m in zip(sentences, narrations, media)]
    return json.dumps({"title": "A record marathon", "hook": "40,000 runners signed up.", "scenes": scenes,
                       "hashtags": ["marathon", "Seoul", "100000", "m-img"]})


def writer(server: ChatServer, **llm) -> LlmStoryWriter:
    options = {"base_url": server.base_url, "model": "story-model", "api_key": KEY, "timeout_s": 5, "max_retries": 2}
    settings = LlmSettings(**(options | llm))
    return LlmStoryWriter(OpenAIChat(settings, backoff_s=0.01), story=StorySettings(), llm=settings)


def test_a_valid_answer_becomes_a_story_with_citations_and_video_ranges():
    with ChatServer([Reply(answer())]) as server:
        story = writer(server).write(TREND, ITEM)
    assert story.backend == "openai" and story.model == "story-model" and story.attempts == 1
    assert [c.sentence for s in story.scenes for c in s.citations if c.sentence is not None] == [1, 2, 4]
    assert story.scenes[1].media[0].kind == "video" and story.scenes[1].media[0].end_s <= 4.0
    assert story.grounding == 1.0 and story.hashtags == ["#marathon", "#Seoul"]
    # What was sent: the model, the key in the header only, a JSON schema whose enums list what exists.
    request = server.requests[0]
    assert request["model"] == "story-model" and server.auth_headers[0] == f"Bearer {KEY}"
    schema = request["response_format"]["json_schema"]["schema"]
    scene = schema["properties"]["scenes"]["items"]["properties"]
    assert scene["sentences"]["items"]["enum"] == [0, 1, 2, 3, 4]
    assert scene["media"]["items"]["enum"] == ["m-img", "m-vid"]
    assert "[3] Running clubs" in request["messages"][1]["content"]


def test_the_prompt_asks_for_a_shorts_script_with_a_cited_hook_and_a_closing_line():
    with ChatServer([Reply(answer())]) as server:
        story = writer(server).write(TREND, ITEM)
    request = server.requests[0]
    system, user = request["messages"][0]["content"], request["messages"][1]["content"]
    assert "first two seconds" in system and "closing line" in system and "adding no fact" in system
    assert "in English" in user and "the last scene is the closing line" in user
    schema = request["response_format"]["json_schema"]["schema"]
    assert "hook_sentences" in schema["required"] and schema["properties"]["hook_sentences"]["items"]["enum"] == [0, 1, 2, 3, 4]
    # The answer gave no hook_sentences: the check cites the sentence that backs the hook.
    assert [c.sentence for c in story.hook_citations] == [1] and story.hook_supported


def test_progress_reports_each_attempt_and_its_tokens():
    seen = []
    with ChatServer([Reply('{"title": "cut off'), Reply(answer())]) as server:
        writer(server).write(TREND, ITEM, on_progress=lambda step, done, total: seen.append((step, done, total)))
    assert seen == [("attempt 1 of 3: waiting", 0, 1500), ("attempt 1 of 3: tokens", 10, 1500),
                    ("attempt 2 of 3: waiting", 0, 1500), ("attempt 2 of 3: tokens", 10, 1500)]


def test_a_scene_too_long_to_say_is_sent_back():
    long = "Organisers closed registration three weeks early after 40,000 runners signed up, and more than half of them are running a full marathon for the first time."
    with ChatServer([Reply(answer(narrations=[long, "Half are new to the marathon.", "Roads will close."])),
                     Reply(answer())]) as server:
        story = writer(server).write(TREND, ITEM)
    assert story.attempts == 2
    assert "scene 1: narration takes 11.1 s to say; at most 7 s: say less, or split it into two scenes" in \
        server.requests[1]["messages"][-1]["content"]


def test_invalid_json_is_retried_with_the_problem_fed_back():
    with ChatServer([Reply('{"title": "cut off'), Reply(answer())]) as server:
        story = writer(server).write(TREND, ITEM)
    assert story.attempts == 2 and len(server.requests) == 2
    retry = server.requests[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": '{"title": "cut off'}
    assert "not valid JSON" in retry[-1]["content"]


def test_answers_that_always_fail_validation_end_in_a_clear_error_after_max_retries():
    made_up = answer(narrations=["The mayor will run the race in a gorilla suit.",
                                 "Prize money doubled to 2 million won.", "A volcano erupted nearby."])
    with ChatServer([Reply(made_up)]) as server:
        with pytest.raises(StoryInvalid) as err:
            writer(server, max_retries=1).write(TREND, ITEM)
    assert len(server.requests) == 2  # one answer and one retry
    assert "in 2 attempts (llm.max_retries = 1)" in str(err.value)
    assert any("not supported" in p for p in err.value.problems)
    assert "say only what the cited sentences say" in server.requests[1]["messages"][-1]["content"]


def test_json_without_the_story_fields_is_invalid():
    with ChatServer([Reply('{"story": "once upon a time"}')]) as server:
        with pytest.raises(StoryInvalid, match="does not have the story's fields"):
            writer(server, max_retries=0).write(TREND, ITEM)


def test_unknown_media_is_rejected_and_the_model_is_told_which_exist():
    with ChatServer([Reply(answer(media=("m-img", "m-made-up", "m-img"))), Reply(answer())]) as server:
        story = writer(server).write(TREND, ITEM)
    assert story.attempts == 2
    feedback = server.requests[1]["messages"][-1]["content"]
    assert "m-made-up, which is not a stored image or video" in feedback and "m-img, m-vid" in feedback


def test_a_citation_of_the_neighbouring_sentence_is_corrected_not_rejected():
    # Narration of sentence 4 cited as 3: the check cites the sentence that backs it.
    with ChatServer([Reply(answer(sentences=(1, 2, 3)))]) as server:
        story = writer(server).write(TREND, ITEM)
    last = story.scenes[2]
    assert last.citations_fixed and [c.sentence for c in last.citations if c.sentence is not None] == [4]
    assert story.grounding == 1.0


def test_answers_cut_off_at_max_tokens_say_so():
    with ChatServer([Reply('{"title": "A rec', finish_reason="length")]) as server:
        with pytest.raises(StoryInvalid, match="cut off at llm.max_tokens"):
            writer(server, max_retries=0).write(TREND, ITEM)


def test_server_errors_are_retried_then_reported_with_the_url():
    with ChatServer([Fail(503), Reply(answer())]) as server:
        assert writer(server).write(TREND, ITEM).attempts == 1
        assert len(server.requests) == 2
    with ChatServer([Fail(500, "model crashed")]) as server:
        with pytest.raises(LlmError) as err:
            writer(server, max_retries=1).write(TREND, ITEM)
    assert f"{server.base_url}/chat/completions answered HTTP 500 after 2 tries: model crashed" in str(err.value)


def test_refusals_and_bad_requests_fail_at_once_without_leaking_the_key():
    with ChatServer([Fail(401, f"bad key {KEY}")]) as server:
        with pytest.raises(LlmError, match="set llm.api_key") as err:
            writer(server).write(TREND, ITEM)
    assert KEY not in str(err.value) and len(server.requests) == 1
    with ChatServer([Fail(400, "response_format is not supported")]) as server:
        with pytest.raises(LlmError, match="HTTP 400.*response_format is not supported"):
            writer(server).write(TREND, ITEM)


def test_a_server_that_is_down_gives_an_error_naming_the_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = LlmSettings(base_url=f"http://127.0.0.1:{port}/v1", max_retries=1)
    chat = OpenAIChat(settings, backoff_s=0.01)
    w = LlmStoryWriter(chat, story=StorySettings(), llm=settings)
    with pytest.raises(LlmError) as err:
        w.write(TREND, ITEM)
    message = str(err.value)
    assert f"cannot reach the language model server at http://127.0.0.1:{port}/v1/chat/completions" in message
    assert "after 2 tries" in message and "llm.base_url" in message


def test_a_slow_server_times_out_with_a_clear_error():
    with ChatServer([Stall(2.0, Reply(answer()))]) as server:
        with pytest.raises(LlmError, match=r"did not answer within 0.5 s; raise llm.timeout_s"):
            LlmStoryWriter(OpenAIChat(LlmSettings(base_url=server.base_url, timeout_s=0.5)), story=StorySettings(),
                           llm=LlmSettings(timeout_s=0.5)).write(TREND, ITEM)
        assert len(server.requests) == 1  # a timed-out generation is not started again


def test_a_missing_base_url_is_a_config_error():
    with pytest.raises(ConfigError, match="needs llm.base_url"):
        OpenAIChat(LlmSettings())


def test_parse_answer_accepts_code_fences():
    assert parse_answer("```json\n" + answer() + "\n```").title == "A record marathon"
