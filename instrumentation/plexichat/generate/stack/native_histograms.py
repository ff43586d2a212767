"""What a Prometheus release needs to store the service's native histograms, and whether it
keeps their classic series: one table, by release, for every target (``StackTarget``).

The service's duration histograms carry native buckets beside the classic ones, over the
delimited protobuf exposition only. Each row holds from its release up to the next row's:

========  ==========================================  =====================================
release   the service's job (and command line)        classic series
========  ==========================================  =====================================
< 2.40    no native histograms: refused               --
2.40      ``--enable-feature=native-histograms``      dropped where native buckets are
2.45      flag + ``scrape_classic_histograms``        kept
3.0       flag + ``always_scrape_classic_histograms`` kept
3.8       ``scrape_native_histograms`` +              kept
          ``always_scrape_classic_histograms``
========  ==========================================  =====================================

Where the classic series are dropped, so is every rule and panel reading them (the generated
ones read the native histogram where it is stored, ``plexichat.generate.promql``) and the
exemplars on the classic buckets (Prometheus 2.x stores none on native histograms). The
feature flag holds for every job: it asks every target for protobuf, but only histograms with
native buckets change, and ours are the only ones the rules read; the keys are on the service's
job only (``prometheus.py`` says why).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

Version = tuple[int, int, int]
"""A Prometheus release, ``(3, 5, 3)`` for 3.5.3."""

FEATURE_FLAG = "native-histograms"
"""``--enable-feature=`` value that switches native histograms on before 3.8."""


@dataclass(frozen=True)
class NativeHistograms:
    """How releases from ``since`` on (up to the next row's) store native histograms on the
    service's job: the feature flag or not, the job's keys, and whether the classic series
    stay. ``source``: the release notes the row comes from."""

    since: Version
    feature_flag: bool
    job: Mapping[str, bool]
    keeps_classic: bool
    source: str


RELEASES: tuple[NativeHistograms, ...] = (
    NativeHistograms(
        (2, 40, 0),
        feature_flag=True,
        job={},
        keeps_classic=False,
        source="2.40.0: experimental native histograms behind --enable-feature=native-histograms "
        "(#11447), which also makes protobuf the preferred exposition; a histogram with "
        "native buckets is stored as the native one only",
    ),
    NativeHistograms(
        (2, 45, 0),
        feature_flag=True,
        job={"scrape_classic_histograms": True},
        keeps_classic=True,
        source="2.45.0: 'Native histograms: Add option to scrape both classic and native "
        "histograms', the scrape config's scrape_classic_histograms (#12350)",
    ),
    NativeHistograms(
        (3, 0, 0),
        feature_flag=True,
        job={"always_scrape_classic_histograms": True},
        keeps_classic=True,
        source="3.0.0: scrape_classic_histograms renamed always_scrape_classic_histograms, a "
        "breaking change (#15178): 3.x refuses the old key",
    ),
    NativeHistograms(
        (3, 8, 0),
        feature_flag=False,
        job={"scrape_native_histograms": True, "always_scrape_classic_histograms": True},
        keeps_classic=True,
        source="3.8.0: native histograms stable, scraped where scrape_native_histograms is true "
        "(the flag only defaults it to true in 3.8); 3.9.0: the flag is a no-op (#17528)",
    ),
)


class UnsupportedPrometheusError(ValueError):
    """A Prometheus release older than native histograms."""


def dotted(version: Version) -> str:
    """``(3, 5, 3)`` as ``3.5.3``."""
    return ".".join(str(part) for part in version)


def for_release(version: Version) -> NativeHistograms:
    """The row of ``RELEASES`` that holds for Prometheus ``version``;
    ``UnsupportedPrometheusError`` for one older than native histograms."""
    rows = [row for row in RELEASES if row.since <= version]
    if not rows:
        raise UnsupportedPrometheusError(
            f"Prometheus {dotted(version)} stores no native histograms (the first release that "
            f"does is {dotted(RELEASES[0].since)})"
        )
    return rows[-1]
