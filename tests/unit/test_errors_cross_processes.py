"""Errors raised in a worker process (the crawl's page jobs) come back whole: type, message and hint."""

from __future__ import annotations

import multiprocessing

import pytest

from trendreel.errors import ExtractionFailed, StorageError


def _fail(kind: str) -> None:
    if kind == "storage":
        raise StorageError("the file store has no room", hint="free disk space, then crawl again")
    raise ExtractionFailed("could not extract an article from http://x/a")


@pytest.mark.parametrize(("kind", "cls", "hint"), [("storage", StorageError, "free disk space, then crawl again"),
                                                   ("extract", ExtractionFailed, None)])
def test_an_error_from_a_worker_process_keeps_its_type_and_hint(kind, cls, hint):
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        with pytest.raises(cls) as caught:
            pool.apply(_fail, (kind,))
    assert caught.value.hint == hint
    assert "no room" in str(caught.value) or "could not extract" in str(caught.value)
