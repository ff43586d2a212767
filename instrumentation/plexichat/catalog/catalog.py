"""``Catalog``: the loaded table, looked up by id, with the instruments and bucket boundaries."""

from collections.abc import Iterable, Iterator
from pathlib import Path

from plexichat.catalog.alert_rule import AlertRule
from plexichat.catalog.errors import CatalogError
from plexichat.catalog.model import PROFILES, Instrument, MetricEntry


class Catalog:
    """The instruments, the table entries and the alerts beyond the table of one catalog
    file, in file order."""

    def __init__(
        self,
        entries: Iterable[MetricEntry],
        instruments: Iterable[Instrument] = (),
        source: Path | None = None,
        alerts: Iterable[AlertRule] = (),
    ) -> None:
        self.entries: tuple[MetricEntry, ...] = tuple(entries)
        self.alerts: tuple[AlertRule, ...] = tuple(alerts)
        """Alerts on our own instruments that no row of the guide's table carries."""
        self.source = source
        self._by_id = {entry.id: entry for entry in self.entries}
        self._instruments: dict[str, Instrument] = {i.name: i for i in instruments}
        for entry in self.entries:
            for instrument in entry.instruments:
                self._instruments.setdefault(instrument.name, instrument)

    def __getitem__(self, entry_id: str) -> MetricEntry:
        try:
            return self._by_id[entry_id]
        except KeyError:
            known = ", ".join(self._by_id)
            raise KeyError(f"no catalog entry {entry_id!r}; entries: {known}") from None

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._by_id

    def __iter__(self) -> Iterator[MetricEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def ids(self) -> tuple[str, ...]:
        """The entries' ids (the rows of the guide's table), in file order."""
        return tuple(self._by_id)

    @property
    def instruments(self) -> tuple[Instrument, ...]:
        """Every instrument we emit, in file order."""
        return tuple(self._instruments.values())

    def defines(self, name: str) -> bool:
        """Whether an instrument called ``name`` is in the catalog."""
        return name in self._instruments

    def instrument(self, name: str) -> Instrument:
        """The instrument called ``name``; a ``KeyError`` says where to define a missing one."""
        try:
            return self._instruments[name]
        except KeyError:
            where = self.source.name if self.source is not None else "the catalog"
            raise KeyError(
                f"no instrument {name!r} in {where}: define it in the 'instruments' section"
            ) from None

    def bucket_boundaries(
        self, instrument_name: str, extra: Iterable[float] = ()
    ) -> tuple[float, ...]:
        """Boundaries for a histogram: its buckets plus every threshold that reads it.

        A threshold counts when its entry's primary instrument is this histogram and the
        entry's value is in the histogram's unit (response time, not throughput or error
        rate, which read the same histogram's count). Targets and alerts of the guide's
        table and of every profile are included, so each threshold is a bucket edge and
        the fraction of requests beyond it is exact. ``extra`` adds more (e.g. a configured
        ``max_latency_ms`` in seconds).
        """
        instrument = self.instrument(instrument_name)
        if instrument.kind != "histogram":
            raise CatalogError(
                f"instrument {instrument_name!r} is a {instrument.kind}, not a histogram"
            )
        edges = set(instrument.buckets) | {float(x) for x in extra}
        for entry in self.entries:
            if entry.instrument.name != instrument_name or entry.value_unit != instrument.unit:
                continue
            for profile in (None, *PROFILES):
                resolved = entry.thresholds(profile)
                edges.add(resolved.target.value)
                if resolved.alert is not None:
                    edges.add(resolved.alert.value)
        return tuple(sorted(edges))
