"""``set_faults``: flip the runtime fault switch of the service a ``plexichat-obs up`` runs.

The switch is the file ``<dir>/fault`` (``faults.control_file`` of that service); the spec is
checked here first, so a typo is an error now rather than a log line in the service.
"""

from __future__ import annotations

from pathlib import Path

from plexichat.config.faults import FaultsConfig
from plexichat.stack.layout import StackDir


def set_faults(directory: Path, spec: str) -> str:
    """Write ``spec`` to the switch of the stack in ``directory``; a sentence saying so."""
    stack = StackDir(directory)
    faults = FaultsConfig(control_file=stack.fault).with_spec(spec, "SPEC")
    if not stack.fault.exists():
        raise FileNotFoundError(
            f"{stack.fault} does not exist: no `plexichat-obs up` has run from {directory} "
            "(or it runs under the production profile, which refuses faults)"
        )
    temporary = stack.fault.with_suffix(".tmp")
    temporary.write_text(spec.strip() + "\n", encoding="utf-8")
    temporary.replace(stack.fault)
    if not faults.enabled:
        return f"faults off (the service reads {stack.fault} within a second)"
    return f"faults now {spec.strip()} (the service reads {stack.fault} within a second)"
