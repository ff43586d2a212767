"""Values being computed or fetched for a key, so that a write meanwhile spoils them.

A cache miss computes its value (``get_or_set``'s loader, a refresh, an L2 read copied into L1)
while other calls may write or invalidate the same key. Each such computation is a
:class:`Fill`; ``spoil(key)`` / ``spoil_pattern(glob)`` mark the fills under way, and a spoiled
fill is not stored, so a slow reader cannot put back what a writer removed (in this process).
"""

from __future__ import annotations

from fnmatch import fnmatchcase


class Fill:
    """One computation under way for a key; ``spoiled`` turns true when the key is written or
    invalidated meanwhile, and its result must then not be stored."""

    __slots__ = ("spoiled",)

    def __init__(self) -> None:
        self.spoiled = False


class Fills:
    """The fills under way, by key."""

    def __init__(self) -> None:
        self._pending: dict[str, list[Fill]] = {}

    def begin(self, key: str) -> Fill:
        """Register a computation of ``key`` starting now; pair it with :meth:`end` in a
        ``finally``.
        """
        fill = Fill()
        self._pending.setdefault(key, []).append(fill)
        return fill

    def end(self, key: str, fill: Fill) -> None:
        """Forget ``fill`` (its computation returned or failed); its ``spoiled`` still says whether
        the result may be stored."""
        fills = self._pending.get(key)
        if fills is not None:
            fills.remove(fill)
            if not fills:
                del self._pending[key]

    def spoil(self, key: str) -> None:
        """Mark every computation of ``key`` under way as spoiled (``key`` was written)."""
        for fill in self._pending.get(key, ()):
            fill.spoiled = True

    def spoil_pattern(self, pattern: str) -> None:
        """Mark the computations of every key matching the glob ``pattern`` as spoiled (``"*"``: all
        of them)."""
        for key, fills in self._pending.items():
            if fnmatchcase(key, pattern):
                for fill in fills:
                    fill.spoiled = True
