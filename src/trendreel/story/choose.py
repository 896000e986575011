"""Which stored item a trend's story is told from, when the user does not say.

The trend is placed in the vector DB's text space: its line embedded, blended half and half with the
mean `article` vector of its evidence items when they are indexed (a one-line text alone is a
noisy query). Candidates are the nearest `article` vectors plus the evidence items; originals only
(no near-duplicates), with stored text. The most similar candidate that has usable media (stored
images or videos whose files are there) wins, because a story needs something to show; if none
has media, the most similar one. With a language asked for, only items in that language compete
while there are any; otherwise the story is told from an item in another language (the caller
says so in the story's warnings).
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

from trendreel.db.tables import Article, TrendItem
from trendreel.errors import StoryError
from trendreel.index.vectors import SearchFilter
from trendreel.story.source import TrendBrief, has_usable_media

SEARCH_LIMIT = 30


def choose_item(app, trend: TrendBrief, *, lang: str | None = None) -> str:
    """Id of the stored item a story for `trend` is best told from (in `lang` when one is)."""
    ranked = rank_candidates(app, trend)
    if not ranked:
        raise StoryError(f"no stored item with text matches trend {trend.id}; crawl or import items and index them, "
                         "or name an item", hint="`trendreel index`, or `trendreel story --item ARTICLE_ID`")
    if lang:
        languages = item_languages(app, [a for a, _ in ranked])
        in_lang = [(a, s) for a, s in ranked if same_base_language(languages.get(a), lang)]
        ranked = in_lang or ranked
    for article_id, _ in ranked:
        if has_usable_media(app.db, app.files, article_id):
            return article_id
    return ranked[0][0]


def same_base_language(a: str | None, b: str | None) -> bool:
    """'en' and 'en-GB' are the same language; an unknown one is none."""
    return bool(a and b) and a.split("-")[0].casefold() == b.split("-")[0].casefold()


def item_languages(app, article_ids: list[str]) -> dict[str, str | None]:
    if not article_ids:
        return {}
    with app.db.session() as s:
        return dict(s.execute(select(Article.id, Article.lang).where(Article.id.in_(article_ids))).all())


def rank_candidates(app, trend: TrendBrief) -> list[tuple[str, float]]:
    """(item id, similarity to the trend), most similar first, only items a story can be told from."""
    with app.db.session() as s:
        evidence = dict(s.execute(select(TrendItem.article_id, TrendItem.similarity)
                                  .where(TrendItem.trend_id == trend.id)).all())
    store = app.vectors()
    query = _trend_vector(app, store, trend, list(evidence))
    scores = {h.article_id: float(h.score)
              for h in store.search(query, limit=SEARCH_LIMIT, filter=SearchFilter(kinds=["article"]))}
    for article_id, similarity in evidence.items():
        if article_id not in scores:
            record = store.get(f"{article_id}:article")
            scores[article_id] = float(np.dot(query, record.vector)) if record is not None else float(similarity)
    usable = _originals_with_text(app, list(scores))
    return sorted(((a, round(scores[a], 4)) for a in usable), key=lambda x: (-x[1], x[0]))


def _trend_vector(app, store, trend: TrendBrief, evidence: list[str]) -> np.ndarray:
    text_vec = _unit(app.text_embedder().embed([trend.text or " ".join(trend.key_phrases)])[0])
    vectors = [r.vector for r in (store.get(f"{a}:article") for a in evidence) if r is not None]
    if not vectors:
        return text_vec
    return _unit(0.5 * text_vec + 0.5 * _unit(np.mean(vectors, axis=0)))


def _originals_with_text(app, article_ids: list[str]) -> set[str]:
    if not article_ids:
        return set()
    with app.db.session() as s:
        rows = s.execute(select(Article.id).where(Article.id.in_(article_ids), Article.duplicate_of.is_(None),
                                                  Article.text_path.is_not(None), Article.files_purged_at.is_(None)))
        return {r[0] for r in rows}


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v
