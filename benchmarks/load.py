"""wrk runs and parsing, CPU time of a process from ``/proc``, and bounded process handling."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

CLK_TCK = os.sysconf("SC_CLK_TCK")
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50: float  # seconds
    p99: float
    errors: int  # socket errors + non-2xx/3xx responses


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (all threads) in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def core_busy_seconds(core: int) -> float:
    """Non-idle time of one CPU core (all processes, kernel included) from ``/proc/stat``."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{core} "):
                ticks = [int(x) for x in line.split()[1:]]
                idle = ticks[3] + ticks[4]  # idle + iowait
                return (sum(ticks[:8]) - idle) / CLK_TCK  # guest time is already in user
    raise ValueError(f"no cpu{core} in /proc/stat")


def _duration(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if match is None:
        raise ValueError(f"unparsable wrk duration {text!r}")
    return float(match[1]) * _UNITS[match[2]]


def parse_wrk(out: str) -> WrkResult:
    """Parse ``wrk --latency`` output."""
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    if not (total and rps and p50 and p99):
        raise ValueError(f"unparsable wrk output:\n{out}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        errors += int(non2xx[1])
    return WrkResult(
        requests=int(total[1]),
        seconds=_duration(total[2] + total[3]),
        rps=float(rps[1]),
        p50=_duration(p50[1]),
        p99=_duration(p99[1]),
        errors=errors,
    )


def run_wrk(url: str, seconds: int, connections: int, core: int) -> WrkResult:
    cmd = ["taskset", "-c", str(core), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    cmd += ["--latency", url]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=True)
    return parse_wrk(done.stdout)


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status < 500:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} not ready after {timeout} s")


def start(
    cmd: list[str], core: int, log: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``cmd`` pinned to ``core`` (taskset execs, so the pid is the command's)."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            ["taskset", "-c", str(core), *cmd], stdout=out, stderr=subprocess.STDOUT, env=env
        )


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
