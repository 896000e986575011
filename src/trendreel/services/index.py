"""Use cases of the index: vectors, categories and summaries for what is new, search by meaning, categorize."""

from __future__ import annotations

from sqlalchemy import select

from trendreel.bootstrap import App
from trendreel.db.tables import Article
from trendreel.errors import ConfigError, NotFound
from trendreel.index.stage import IndexStats
from trendreel.index.vectors import SearchFilter

SEARCH_KINDS = {
    "article": ["article", "chunk"],
    "image": ["image"],
    "video": ["video", "video_text"],
}


def index_articles(app: App, *, article_ids: list[str] | None = None, force: bool = False,
                   on_progress=None) -> IndexStats:
    """Index what is new or changed: vectors, category, summary, captions, transcripts."""
    return app.indexer().index(article_ids=article_ids, force=force, on_progress=on_progress)


def search(app: App, *, query: str | None = None, like: str | None = None, kind: str | None = None,
           category: str | None = None, since=None, until=None, limit: int = 10) -> list[dict]:
    """Search by meaning (a text) or by example (an article, media or vector id)."""
    if bool(query) == bool(like):
        raise ConfigError("search needs either a text or --like ITEM_ID, not both")
    if kind is not None and kind not in SEARCH_KINDS:
        raise ConfigError(f"unknown kind {kind!r}: use one of {', '.join(SEARCH_KINDS)}")
    if not 1 <= limit <= 1000:
        raise ConfigError("limit must be between 1 and 1000")
    store = app.vectors()
    exclude = set()
    if query:
        vector = app.text_embedder().embed([query])[0]
    else:
        record = None
        for vid in (like, f"{like}:repr", f"{like}:article", f"{like}:image", f"{like}:video"):
            record = store.get(vid)
            if record is not None:
                break
        if record is None:
            raise NotFound(f"{like} is not indexed: give an article id, a media id or a vector id of an indexed item",
                           hint="run `trendreel index` first")
        vector = record.vector
        exclude = {record.article_id} if record.kind in ("article", "article_repr", "chunk") else {record.payload.get("media_id")}
    kinds = SEARCH_KINDS[kind] if kind else ["article", "chunk", "image", "video", "video_text"]
    flt = SearchFilter(kinds=kinds, category=category, since=since, until=until)
    hits = store.search(vector, limit=limit * 4 + len(exclude), filter=flt)
    out, seen = [], set()
    for h in hits:
        item = h.payload.get("media_id") or h.article_id
        if item in seen or item in exclude or (h.article_id in exclude and not h.payload.get("media_id")):
            continue
        seen.add(item)
        out.append({"id": item, "vector_id": h.id, "kind": "article" if h.kind == "chunk" else h.kind,
                    "score": round(float(h.score), 4), "article_id": h.article_id, "category": h.category,
                    "published_at": h.published_at.isoformat() if h.published_at else None, "lang": h.lang,
                    "title": h.payload.get("title"), "snippet": h.payload.get("snippet") or h.payload.get("caption")})
        if len(out) >= limit:
            break
    if out:
        with app.db.session() as s:
            urls = dict(s.execute(select(Article.id, Article.canonical_url).where(Article.id.in_({o["article_id"] for o in out}))).all())
        for o in out:
            o["url"] = urls.get(o["article_id"])
    return out


def categorize_texts(app: App, texts: list[str]) -> list[dict]:
    """Category of each text, from the category master."""
    if not texts:
        raise ConfigError("give at least one text (or --file JSONL)")
    return [{"category": g.slug, "score": round(float(g.score), 4)} for g in app.categorizer().categorize(texts)]
