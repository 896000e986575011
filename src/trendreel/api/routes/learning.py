"""The learning loop over HTTP: import histories, features, models and their evaluation, fit (a run),
forecast, and the ranked and exploring choices compared."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from trendreel import services
from trendreel.api.auth import get_app
from trendreel.api.routes._common import Editor, Viewer, call, start_run
from trendreel.api.schemas import ERRORS, Open, RunAccepted, Strict, When, whole

router = APIRouter(tags=["learning"], responses=ERRORS)
MAX_LINES = 10_000


class HistoriesIn(Strict):
    histories: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_LINES, description=(
        "Publication histories in the import shape: id, platform, account, title, category, tags, language, "
        "published_at, samples [{at, views, likes, comments}] (docs/learning.md)."))


class ImportOut(Open):
    lines: int
    imported: int
    updated: int
    unchanged: int
    samples_added: int
    errors: list[dict[str, Any]]


class EvaluateIn(Strict):
    split_at: When | None = Field(None, description="Hold out histories first seen on or after this time.")


class ForecastHistories(Strict):
    histories: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_LINES, description=(
        "Histories in the import shape plus predict_at (samples known so far, possibly none)."))


class ForecastPublication(Strict):
    publication_id: Annotated[str, Field(pattern=r"^p[0-9a-f]{23}$")]
    predict_at: When | None = Field(None, description="Default: in 7 days.")


# The histories, or a stored publication: one of the two shapes (the schema says so, not a 400 after it).
ForecastIn = ForecastHistories | ForecastPublication


class ForecastOut(Open):
    id: str
    predict_at: str
    views: int
    source: str = Field(alias="from")


@router.post("/learn/histories", response_model=ImportOut, summary="Import publication histories from elsewhere")
async def import_histories(body: HistoriesIn, request: Request, _: Editor):
    return await call(services.import_histories, get_app(request), lines=body.histories)


@router.get("/learn/features", summary="The feature store: each publication's features with when each was known")
async def features(request: Request, _: Viewer, publication_id: Annotated[str | None, Query(pattern=r"^p[0-9a-f]{23}$")] = None,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 20) -> dict[str, Any]:
    return await call(services.learning_features, get_app(request), publication_id=publication_id, limit=limit)


@router.get("/learn/models", summary="Fitted models, newest first, with their evaluation")
async def models(request: Request, _: Viewer,
                 kind: Literal["forecaster", "cold_start"] | None = None) -> list[dict[str, Any]]:
    return await call(services.list_models, get_app(request), kind=kind)


@router.post("/learn/evaluate", summary="Evaluate the views model on a time split, beside the plain baselines")
async def evaluate(body: EvaluateIn, request: Request, _: Editor) -> dict[str, Any]:
    return await call(services.evaluate_models, get_app(request), split_at=body.split_at)


@router.post("/learn/fit", response_model=RunAccepted, status_code=202,
             summary="Evaluate, then fit and store new models (a background run)")
async def fit(body: EvaluateIn, request: Request, user: Editor):
    return await start_run(request, user, "learn", body.model_dump(mode="json", exclude_none=True))


class ChooseIn(Strict):
    count: whole(1, 100) = 3
    limit: whole(1, 1000) = 50


@router.post("/learn/choose", summary="Choose trends by expected views with exploration, and record the choice")
async def choose(body: ChooseIn, request: Request, user: Editor) -> list[dict[str, Any]]:
    return await call(services.choose_now, get_app(request), count=body.count, limit=body.limit,
                      context=f"api:{user.username}")


@router.get("/learn/arms", summary="Ranked and exploring choices compared by the views their videos got")
async def arms(request: Request, _: Viewer) -> dict[str, Any]:
    return await call(services.compare_decisions, get_app(request))


@router.post("/forecast", response_model=list[ForecastOut],
             summary="Views at a later time, from samples or metadata (fits the models first when none is stored)")
async def forecast(body: ForecastIn, request: Request, _: Editor):
    if isinstance(body, ForecastHistories):
        return await call(services.forecast, get_app(request), lines=body.histories)
    return await call(services.forecast, get_app(request), publication_id=body.publication_id,
                      predict_at=body.predict_at)
