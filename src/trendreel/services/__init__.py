"""Every use case of trendreel, in one place: the CLI, the HTTP API, the web workspace, the engine and
the demo call these (and nothing below them).

    from trendreel import services
    services.write_story(app, trend_id="t…")

Names load their module on first use, so a command that lists stories does not import the renderer.
The public names are listed here, one module each; tests keep this list and the modules in step.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# public name -> the services module that defines it
_WHERE: dict[str, str] = {
    # collecting (crawl.py) and reading what was collected (content.py)
    "crawl_sources": "crawl", "extract_target": "crawl", "import_items": "crawl",
    "list_articles": "content", "get_article": "content", "crawl_errors": "content", "storage_counts": "content",
    "list_categories": "content", "save_category": "content",
    # sources: the settings file's and those added in the workspace (sources.py)
    "list_sources": "sources", "find_source": "sources", "save_source": "sources", "remove_source": "sources",
    "test_source": "sources", "all_sources": "sources", "check_source": "sources",
    # the index (index.py)
    "index_articles": "index", "search": "index", "categorize_texts": "index",
    # trends and stories (trends.py, stories.py)
    "detect_trends": "trends", "list_trends": "trends", "get_trend": "trends",
    "write_story": "stories", "get_story": "stories", "list_stories": "stories", "edit_story": "stories",
    # videos (render.py, edit.py, videos.py) and voices (voices.py)
    "render_story": "render", "edit_video": "edit", "render_options": "render", "check_render_choices": "render",
    "preview_frame": "render", "list_voices": "voices", "preview_voice": "voices",
    "list_videos": "videos", "get_video": "videos", "video_file": "videos", "reap_stale": "videos",
    # review, accounts, publishing (publishing.py)
    "approve_video": "publishing", "reject_video": "publishing", "publish_video": "publishing",
    "get_publication": "publishing", "list_publications": "publishing", "add_account": "publishing",
    "list_accounts": "publishing", "remove_account": "publishing", "resolve_target": "publishing",
    "oauth_platforms": "publishing", "oauth_start": "publishing", "oauth_finish": "publishing",
    # the learning loop (learning.py)
    "import_histories": "learning", "learning_features": "learning", "fit_models": "learning",
    "evaluate_models": "learning", "list_models": "learning", "forecast": "learning", "expected_views": "learning",
    "choose_trends": "learning", "choose_now": "learning", "choose_per_language": "learning", "compare_decisions": "learning",
    # views over time and the report (metrics.py, report.py)
    "collect_metrics": "metrics", "list_metrics": "metrics", "build_report": "report",
    # the storage budget (storage.py)
    "storage_status": "storage", "collect_garbage": "storage",
    # people and API tokens (users.py)
    "add_user": "users", "list_users": "users", "get_user": "users", "set_role": "users", "remove_user": "users",
    "verify_password": "users", "create_token": "users", "list_tokens": "users", "revoke_token": "users",
    "user_for_token": "users", "session_user": "users", "start_session": "users", "end_session": "users",
    "end_sessions": "users", "check_login": "users", "record_login": "users",
    # pipeline runs (runs.py) and the pipeline table (pipeline.py)
    "Runner": "runs", "check_run": "runs", "get_run": "runs", "list_runs": "runs", "run_events": "runs", "mark_interrupted": "runs",
    "STAGES": "pipeline", "RUN_KINDS": "pipeline", "run_stage": "pipeline",
    # what the workspace shows (workspace.py)
    "recent_events": "workspace", "event_counts": "workspace", "effective_settings": "workspace",
    "video_reviews": "workspace", "views_chart": "workspace",
    # the publishing schedule (schedule.py) and unattended cycles (autopilot.py)
    "add_post": "schedule", "list_posts": "schedule", "get_post": "schedule", "cancel_post": "schedule",
    "run_due": "schedule", "best_time": "schedule",
    "autopilot_cycle": "autopilot", "autopilot_status": "autopilot",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"trendreel.services has no use case {name!r}")
    value = getattr(import_module(f"trendreel.services.{module}"), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return __all__
