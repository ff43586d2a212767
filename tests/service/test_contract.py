"""The API contract: schemathesis (every check, all phases, the committed schemathesis.toml)
against the served API finds nothing; the document names every status the layers around the
routes answer, and ids' bounds are exact integers."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from plexichat.service.openapi import MIDDLEWARE_RESPONSES
from plexichat.service.schemas import MAX_ID
from tests.support.service import serving

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
LIMITER_OFF = {"PLEXICHAT_PERFORMANCE__API__RATE_LIMITING__ENABLED": "false"}


def _st() -> str:
    found = shutil.which("st", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("schemathesis is not installed (pip install -e '.[test]')")
    return found


def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    with serving(tmp_path, LIMITER_OFF) as service:
        done = subprocess.run(
            [_st(), "--config-file", str(ROOT / "schemathesis.toml"), "--no-color", "run",
             f"{service.url}/openapi.json"],
            capture_output=True, text=True, timeout=180, check=False, cwd=tmp_path,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "No issues found" in done.stdout
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in done.stdout, done.stdout[-3000:]


def test_the_document_names_every_status_and_exact_id_bounds(tmp_path: Path) -> None:
    with serving(tmp_path, LIMITER_OFF) as service:
        schema = httpx.get(f"{service.url}/openapi.json", timeout=10).json()
    bounds = schema["components"]["schemas"]["PostCreate"]["properties"]["user_id"]
    assert bounds["maximum"] == MAX_ID
    assert isinstance(bounds["maximum"], int)
    assert isinstance(bounds["minimum"], int)
    for path, operations in schema["paths"].items():
        if path.startswith("/api/"):
            for method, operation in operations.items():
                assert set(MIDDLEWARE_RESPONSES) <= set(operation["responses"]), (path, method)
    assert "404" in schema["paths"]["/api/users/{user_id}"]["get"]["responses"]
    assert "404" in schema["paths"]["/api/posts/{post_id}/comments"]["post"]["responses"]


def test_a_body_that_is_not_utf8_is_a_documented_400(tmp_path: Path) -> None:
    with serving(tmp_path, LIMITER_OFF) as service:
        response = httpx.post(
            f"{service.url}/api/messages",
            content=b'{"body": "\xff\xfe"}',
            headers={"content-type": "application/json"},
            timeout=10,
        )
    assert response.status_code == 400
    assert "detail" in response.json()
