"""``scripts/prometheus3``'s checks of what it downloads, on made-up indexes (the real archive
is what CI's run of it meets): a file whose SHA256 is not the one its signed index gives is
refused, naming the file; Release and Packages fields are read as apt reads them."""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
from types import ModuleType

import pytest

from tests.support.paths import ROOT

DIGEST = "3ee7e248a1323f66e6bbac87d686442bdc650d66f6a4ffc087a485d49d4c1493"
RELEASE = f"""Origin: Debian
Codename: forky
MD5Sum:
 11c167e715f255b51ad5152442e2f44f 10093888 main/binary-amd64/Packages.xz
SHA256:
 {DIGEST} 10093888 main/binary-amd64/Packages.xz
 {"0" * 64} 42 main/binary-arm64/Packages.xz
"""


@pytest.fixture(scope="module")
def script() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("prometheus3", str(ROOT / "scripts/prometheus3"))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_a_download_whose_sha256_differs_from_its_index_is_refused(script: ModuleType) -> None:
    good = hashlib.sha256(b"deb").hexdigest()
    assert script.verified(b"deb", good, "pool/p.deb") == b"deb"
    with pytest.raises(SystemExit, match=r"pool/p\.deb has SHA256 [0-9a-f]{64}, its index says"):
        script.verified(b"tampered", good, "pool/p.deb")


def test_the_index_checksum_is_the_sha256_field_of_the_release(script: ModuleType) -> None:
    path = "main/binary-amd64/Packages.xz"
    assert script.release_sha256(RELEASE, path) == DIGEST
    with pytest.raises(SystemExit, match=r"lists no SHA256 of main/binary-i386/Packages\.xz"):
        script.release_sha256(RELEASE, "main/binary-i386/Packages.xz")


def test_packages_paragraphs_keep_single_line_fields(script: ModuleType) -> None:
    index = (
        "Package: promtool\nVersion: 3.5.3+ds1-6\nDescription: a tool\n more text: not a field\n"
        "SHA256: abc\n\nPackage: prometheus\nVersion: 3.5.3+ds1-6\n"
    )
    assert list(script.paragraphs(index)) == [
        {"Package": "promtool", "Version": "3.5.3+ds1-6", "Description": "a tool", "SHA256": "abc"},
        {"Package": "prometheus", "Version": "3.5.3+ds1-6"},
    ]
