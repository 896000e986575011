"""Story grounding and shape per backend, on the sample site's articles, with a plain baseline.

Builds and serves the sample site, crawls and indexes it into a temporary home, then writes one
story per original article (text over 300 characters) with:
- baseline: the item's first sentences in order, one per scene, no selection (the reference);
- template: the offline default;
- llamacpp: the packaged Gemma 3 270M in-process (on the first --llm-articles articles; slow);
- openai: an OpenAI-compatible server, when --base-url is given (same articles as llamacpp).
The trend of an article is its topic's line in the article's language (one-off articles: their title).

Per backend: valid stories, scenes, seconds, time per story, grounding (share of scenes supported
by what they cite, see docs/stories.md), scenes with media, and how close the narration is to the
trend (cosine of USE vectors). For the model backends also every answer, rejected ones included:
share of their scenes supported, answers that were not even a story, citations the check corrected.
A negative control re-checks each template scene against the quotes of another article's scene:
a check that passes those would be measuring nothing.

    python bench/bench_story.py [--llm-articles 4] [--base-url http://127.0.0.1:8080/v1 --model NAME]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import select

from trendreel import services
from trendreel.bootstrap import build_app
from trendreel.db.tables import Article
from trendreel.demo.content import ARTICLES, TOPICS
from trendreel.demo.run import demo_sources
from trendreel.demo.server import serve_site
from trendreel.demo.site import build_sample_site
from trendreel.errors import StoryError, TrendreelError
from trendreel.settings import LlmSettings, Settings, StorySettings
from trendreel.story.build import cite_sentence, media_ref, story_seconds
from trendreel.story.grounding import grade, scene_support
from trendreel.story.llm import LlmStoryWriter, parse_answer, to_story
from trendreel.story.models import Scene, Story
from trendreel.story.source import StoryItem, TrendBrief, load_item
from trendreel.story.template import TemplateWriter
from trendreel.story.text import shorten
from trendreel.story.timing import scene_seconds
from trendreel.story.validate import check


class FirstSentences:
    """The baseline: sentences 1, 2, 3 ... each a scene, while they fit; media in order; title as hook."""

    name = "baseline"
    model = "first-sentences"

    def __init__(self, settings: StorySettings):
        self.settings = settings

    def write(self, trend: TrendBrief, item: StoryItem) -> Story:
        cfg, cursor, scenes, used = self.settings, {}, [], 0.0
        for number, sentence in list(enumerate(item.sentences))[1:]:
            seconds = scene_seconds(sentence)
            if len(scenes) == cfg.max_scenes or len(sentence) > cfg.max_scene_chars:
                break
            if used + seconds > cfg.max_seconds - scene_seconds(item.title):
                break
            used += seconds
            media = [media_ref(item.media[len(scenes) % len(item.media)], seconds, cursor)] if item.media else []
            scenes.append(Scene(narration=sentence, on_screen_text=shorten(sentence, 48), duration_s=seconds,
                                media=media, citations=[cite_sentence(item, number)]))
        if not scenes:
            raise StoryError(f"item {item.article_id}: its first sentence is too long for a scene")
        story = Story(title=item.title, hook=item.title, scenes=scenes, lang=item.lang,
                      duration_s=story_seconds(item.title, scenes), trend_id=trend.id, article_id=item.article_id,
                      backend=self.name, model=self.model)
        story, problems = check(story, item, cfg)
        if problems:
            raise StoryError("; ".join(problems))
        return story


class Recording:
    """A chat backend that keeps every answer with the case it was for, rejected answers included."""

    def __init__(self, chat):
        self.chat, self.name, self.model = chat, chat.name, chat.model
        self.current: tuple[TrendBrief, StoryItem] | None = None
        self.answers: list[tuple[str, TrendBrief, StoryItem]] = []
        self.usage: list[dict] = []

    def complete(self, request: dict) -> dict:
        answer = self.chat.complete(request)
        self.answers.append((answer["choices"][0]["message"]["content"] or "", *self.current))
        self.usage.append(answer.get("usage") or {})
        return answer


def crawl_demo(home: Path) -> Settings:
    site = build_sample_site(home / "site")
    settings = Settings(home=home, crawl={"delay_s": 0, "per_host_concurrency": 4}, index={"speech_model": "none"})
    with serve_site(site.root) as url:
        app = build_app(settings.model_copy(update={"sources": demo_sources(url)}))
        try:
            services.crawl_sources(app)
            services.index_articles(app)
        finally:
            app.close()
    return settings


def trend_of(title: str, lang: str) -> TrendBrief:
    written = next((a for a in ARTICLES if a.title == title), None)
    if written is None or written.topic is None:
        return TrendBrief(id=f"t-{title[:20]}", text=title, lang=lang)
    ko, en = TOPICS[written.topic]
    return TrendBrief(id=f"t-{written.topic}", text=ko if lang == "ko" else en, lang=lang)


def run_backend(writer, cases, embed, recording: Recording | None = None) -> tuple[dict, list[Story]]:
    stories, errors, seconds = [], [], []
    for trend, item in cases:
        if recording is not None:
            recording.current = (trend, item)
        t0 = time.perf_counter()
        try:
            stories.append((trend, writer.write(trend, item)))
        except TrendreelError as exc:
            errors.append(f"{item.article_id}: {str(exc)[:160]}")
        seconds.append(time.perf_counter() - t0)
    scenes = [sc for _, s in stories for sc in s.scenes]
    result = {
        "model": writer.model, "stories": len(cases), "valid": len(stories),
        "seconds_per_story": round(statistics.mean(seconds), 3) if seconds else None,
        "grounding": _mean([s.grounding for _, s in stories]),
        "scenes_supported": round(sum(bool(sc.supported) for sc in scenes) / len(scenes), 3) if scenes else None,
        "scenes_per_story": _mean([len(s.scenes) for _, s in stories]),
        "duration_s": _mean([s.duration_s for _, s in stories]),
        "max_duration_s": max((s.duration_s for _, s in stories), default=None),
        "scenes_with_media": round(sum(bool(sc.media) for sc in scenes) / len(scenes), 3) if scenes else None,
        "trend_similarity": _mean([_similarity(embed, t.text, " ".join(sc.narration for sc in s.scenes)) for t, s in stories]),
        "errors": errors[:5],
    }
    return result, [s for _, s in stories]


def answer_figures(recording: Recording, story: StorySettings) -> dict:
    """Every answer of a model, rejected ones included: how many were stories, how grounded their scenes were."""
    total = supported = fixed = unusable = 0
    for content, trend, item in recording.answers:
        try:
            draft, _ = to_story(parse_answer(content), trend, item, backend="x", model="x",
                                threshold=story.grounding_threshold)
        except ValueError:
            draft = None
        if draft is None:
            unusable += 1
            continue
        graded = grade(draft, threshold=story.grounding_threshold)
        total += len(graded.scenes)
        supported += sum(bool(sc.supported) for sc in graded.scenes)
        fixed += sum(sc.citations_fixed for sc in graded.scenes)
    return {"answers": len(recording.answers), "answers_not_a_story": unusable, "answer_scenes": total,
            "answer_scenes_supported": round(supported / total, 3) if total else None, "citations_corrected": fixed,
            "prompt_tokens": _mean([u.get("prompt_tokens") for u in recording.usage]),
            "completion_tokens": _mean([u.get("completion_tokens") for u in recording.usage])}


def negative_control(stories: list[Story], threshold: float) -> dict:
    """Template scenes checked against quotes they do not come from: should almost never pass.
    `other_topic`: another article's scene; `same_trend`: every quote of another article of the same trend."""
    scenes = [sc for s in stories for sc in s.scenes]
    shifted = [sc.model_copy(update={"citations": other.citations})
               for sc, other in zip(scenes, scenes[len(scenes) // 2:] + scenes[: len(scenes) // 2])]
    same_trend = []
    for s in stories:
        sibling = next((o for o in stories if o.trend_id == s.trend_id and o.article_id != s.article_id), None)
        if sibling is not None:
            quotes = [c for sc in sibling.scenes for c in sc.citations]
            same_trend += [sc.model_copy(update={"citations": quotes}) for sc in s.scenes]

    def share(checked):
        return round(sum(scene_support(sc, threshold=threshold).supported for sc in checked) / len(checked), 3) if checked else None

    # A closing line names only the topic (its other words are the spoken frame's): any article of the
    # same topic backs it, so the facts are judged on the other scenes.
    closings = {id(s.scenes[-1]) for s in stories}
    facts = [sc for sc in scenes if id(sc) not in closings]
    shifted_facts = [sc.model_copy(update={"citations": other.citations})
                     for sc, other in zip(facts, facts[len(facts) // 2:] + facts[: len(facts) // 2])]
    same_trend_facts = []
    for s in stories:
        sibling = next((o for o in stories if o.trend_id == s.trend_id and o.article_id != s.article_id), None)
        if sibling is not None:
            quotes = [c for sc in sibling.scenes for c in sc.citations]
            same_trend_facts += [sc.model_copy(update={"citations": quotes}) for sc in s.scenes[:-1]]
    return {"scenes": len(shifted), "supported_by_other_topic": share(shifted),
            "same_trend_scenes": len(same_trend), "supported_by_same_trend_article": share(same_trend),
            "fact_scenes": len(shifted_facts), "facts_supported_by_other_topic": share(shifted_facts),
            "same_trend_fact_scenes": len(same_trend_facts),
            "facts_supported_by_same_trend_article": share(same_trend_facts)}


def _similarity(embed, a: str, b: str) -> float:
    va, vb = embed.embed([a, b])
    return float(np.dot(va, vb) / (np.linalg.norm(va) * np.linalg.norm(vb)))


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.mean(values), 3) if values else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llm-articles", type=int, default=4, help="articles written by the model backends (slow)")
    ap.add_argument("--llm-threads", type=int, default=1, help="CPU threads of the llama.cpp backend")
    ap.add_argument("--llm-max-tokens", type=int, default=900)
    ap.add_argument("--skip-llamacpp", action="store_true")
    ap.add_argument("--base-url", help="an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1")
    ap.add_argument("--model", default="default")
    ap.add_argument("--api-key")
    args = ap.parse_args()
    story = StorySettings()
    with tempfile.TemporaryDirectory(prefix="trendreel-bench-story-") as tmp:
        settings = crawl_demo(Path(tmp) / "home")
        app = build_app(settings)
        try:
            with app.db.session() as s:
                rows = s.execute(select(Article.id, Article.title, Article.lang).where(
                    Article.duplicate_of.is_(None), Article.text_chars > 300).order_by(Article.lang, Article.title)).all()
            cases = [(trend_of(title, lang), load_item(app.db, app.files, aid)) for aid, title, lang in rows]
            embed = app.text_embedder()
            out = {"benchmark": "story", "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
                   "articles": len(cases), "settings": story.model_dump(), "backends": {}}
            # The baseline says whole sentences, however long: it is the script before any rewriting.
            whole_sentences = story.model_copy(update={"max_scene_seconds": 60.0, "max_hook_seconds": 30.0})
            for writer in (FirstSentences(whole_sentences), TemplateWriter(story)):
                out["backends"][writer.name], stories = run_backend(writer, cases, embed)
                if writer.name == "template":
                    out["negative_control"] = negative_control(stories, story.grounding_threshold)
            # The model backends get a few articles, alternating languages (sorted by title: the same ones every run).
            ko = [c for c in cases if c[1].lang == "ko"]
            en = [c for c in cases if c[1].lang != "ko"]
            llm_cases = [c for pair in zip(ko, en) for c in pair][: args.llm_articles]
            llm = LlmSettings(threads=args.llm_threads, max_tokens=args.llm_max_tokens, max_retries=1,
                              temperature=0, base_url=args.base_url, model=args.model, api_key=args.api_key,
                              timeout_s=600)
            chats = []
            if not args.skip_llamacpp:
                from trendreel.story.llamacpp import LlamaCppChat

                chats.append(LlamaCppChat(llm, home=settings.home))
            if args.base_url:
                from trendreel.story.openai_http import OpenAIChat

                chats.append(OpenAIChat(llm))
            for chat in chats:
                recording = Recording(chat)
                writer = LlmStoryWriter(recording, story=story, llm=llm)
                out["backends"][chat.name], _ = run_backend(writer, llm_cases, embed, recording)
                out["backends"][chat.name] |= answer_figures(recording, story)
                out["backends"][chat.name]["on"] = "the first {} articles, ko and en alternating".format(len(llm_cases))
        finally:
            app.close()
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
