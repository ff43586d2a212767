"""The committed metrics_pb2.py/.pyi are what ``scripts/protoc`` compiles from the vendored
proto (a real protoc: grpcio-tools as pinned in constraints/protoc.txt, installed by the
script on first use), and that gencode loads with no warning under this runtime."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from tests.support.paths import ROOT

PACKAGE = ROOT / "instrumentation/plexichat/observability/exposition"


@pytest.mark.integration
def test_the_committed_modules_are_a_fresh_compile(tmp_path: Path) -> None:
    check = subprocess.run(
        [str(ROOT / "scripts/protoc"), "--check"], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stderr
    # and --check can fail: a stale copy is named
    copy = tmp_path / "repo"
    for part in ("scripts", "constraints", "protos", "instrumentation/plexichat/observability"):
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / ".venv").symlink_to(ROOT / ".venv")
    stale = copy / PACKAGE.relative_to(ROOT) / "metrics_pb2.pyi"
    stale.write_text(stale.read_text().replace("class Bucket", "class Bucket2"))
    check = subprocess.run(
        [str(copy / "scripts/protoc"), "--check"], capture_output=True, text=True, check=False
    )
    assert check.returncode == 1
    assert "observability/exposition/metrics_pb2.pyi: stale" in check.stderr
    assert "metrics_pb2.py:" not in check.stderr


def test_the_gencode_has_no_runtime_version_check_and_a_banner() -> None:
    source = (PACKAGE / "metrics_pb2.py").read_text()
    assert "ValidateProtobufRuntimeVersion" not in source  # see constraints/protoc.txt
    for name in ("metrics_pb2.py", "metrics_pb2.pyi"):
        first = (PACKAGE / name).read_text().splitlines()[0]
        assert "DO NOT EDIT" in first
        assert "`scripts/protoc`" in first
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from plexichat.observability.exposition import metrics_pb2

    assert metrics_pb2.MetricFamily.DESCRIPTOR.file.name == "io/prometheus/client/metrics.proto"
