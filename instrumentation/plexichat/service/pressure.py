"""``Pressure``: the ``cpu_burn`` and ``memory_fill`` faults, applied in the background.

Every half second it compares what is applied with the faults in force (``FaultSwitch``):

- ``cpu_burn`` F keeps F of the CPUs the process may use busy (``available_cpus``, as the
  ``process.cpu.utilization`` gauge counts them): one thread per CPU, each hashing a 1 MiB
  buffer for F of every 100 ms. hashlib releases the GIL on large buffers, so the threads burn
  in parallel, and requests still run between their slices.
- ``memory_fill`` F grows resident memory, 16 MiB at a time (written, so it is resident), until
  the process' RSS reaches F of its memory limit (the cgroup's, else
  ``resource_limits.max_memory_usage``, as ``plexichat.process.memory.limit`` reports it). It
  never allocates past that bound, and frees everything when the fault ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import threading
import time

import psutil

from plexichat.config.sizes import MiB
from plexichat.observability.process import available_cpus, cgroup_memory_limit
from plexichat.service.fault_switch import FaultSwitch

TICK_S = 0.5
SLICE_S = 0.1
CHUNK_BYTES = 16 * MiB
_BUFFER = b"\x5a" * MiB


class _Burner(threading.Thread):
    def __init__(self, share: float) -> None:
        super().__init__(name="plexichat-fault-cpu", daemon=True)
        self.share = share
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            busy_until = time.perf_counter() + self.share * SLICE_S
            while time.perf_counter() < busy_until:
                hashlib.sha256(_BUFFER).digest()
            self.stop.wait((1 - self.share) * SLICE_S)


class Pressure:
    """Applies ``cpu_burn`` and ``memory_fill`` as the switch says; ``run`` until cancelled."""

    def __init__(self, switch: FaultSwitch, configured_memory_limit: int) -> None:
        self.switch = switch
        self.memory_limit = cgroup_memory_limit() or configured_memory_limit
        self.cpus = available_cpus()
        self._process = psutil.Process()
        self._burners: list[_Burner] = []
        self._burn = 0.0
        self._ballast: list[bytearray] = []

    async def run(self) -> None:
        """Follow the faults every ``TICK_S`` seconds until cancelled; then stop burning and free
        the memory."""
        try:
            while True:
                faults = self.switch.faults()
                self._set_burn(faults.cpu_burn if faults.enabled else 0.0)
                self._fill(faults.memory_fill if faults.enabled else 0.0)
                await asyncio.sleep(TICK_S)
        finally:
            self._set_burn(0.0)
            self._ballast.clear()

    def _set_burn(self, share: float) -> None:
        if share == self._burn:
            return
        for burner in self._burners:
            burner.stop.set()
        self._burners = []
        self._burn = share
        if share > 0:
            self._burners = [_Burner(share) for _ in range(max(1, math.ceil(self.cpus)))]
            for burner in self._burners:
                burner.start()

    def _fill(self, share: float) -> None:
        if share <= 0:
            self._ballast.clear()
            return
        target = share * self.memory_limit
        with contextlib.suppress(psutil.Error):
            if self._process.memory_info().rss + CHUNK_BYTES <= target:
                self._ballast.append(bytearray(b"\x01") * CHUNK_BYTES)
