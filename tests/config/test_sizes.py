"""``parse_size``: the guide's sizes, in binary units."""

import pytest

from plexichat.config import parse_size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("256MB", 256 * 1024**2),
        ("1GB", 1024**3),
        ("500MB", 500 * 1024**2),
        ("10 MiB", 10 * 1024**2),
        ("1kb", 1024),
        ("1.5G", 3 * 1024**3 // 2),
        ("2TB", 2 * 1024**4),
        ("512", 512),
        ("0", 0),
        (4096, 4096),
    ],
)
def test_sizes(text: str | int, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["500 parsecs", "", "MB", "-1MB", "1,5GB", -1, True])
def test_not_sizes(text: str | int) -> None:
    with pytest.raises(ValueError, match="is not a size"):
        parse_size(text)
