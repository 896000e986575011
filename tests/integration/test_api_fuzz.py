"""schemathesis over the whole OpenAPI schema: generated valid and invalid requests, never a 5xx."""

from __future__ import annotations

import pytest

from tests.integration.api_helpers import fuzz_schema, make_gateway
from trendreel.settings import Settings


@pytest.mark.slow
def test_no_request_the_schema_allows_or_breaks_gets_a_500(tmp_path):
    gw = make_gateway(Settings(home=tmp_path / "home"))
    stats = fuzz_schema(gw.api, gw.tokens["admin"], max_examples=8)
    print(f"fuzzed {stats['operations']} operations with {stats['cases']} cases: {stats['by_status']}")
    assert stats["operations"] >= 40 and stats["cases"] >= stats["operations"]
    assert not stats["failures"], "\n".join(stats["failures"][:20])
    assert set(stats["by_status"]) - {"500"}  # answers came back
    gw.api.state.runner.shutdown(wait=True)  # runs the generated requests started finish first
    gw.app.close()
