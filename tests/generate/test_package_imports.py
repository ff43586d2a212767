"""What of ``plexichat.generate`` imports without the ``generate`` extra: the PromQL, rule and
option modules that ``status`` and ``up`` use do; writing dashboards does not."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# A fresh interpreter in which grafanalib (the extra) cannot be imported.
WITHOUT_EXTRA = textwrap.dedent(
    """\
    import importlib, sys
    sys.modules["grafanalib"] = None
    for name in sys.argv[1:]:
        importlib.import_module(name)
    from plexichat.generate import Options, promql
    print(promql.seconds("1m"), Options.for_profile(None).job)
    from plexichat.generate import check
    """
)


def test_promql_rules_and_status_import_without_grafanalib() -> None:
    modules = [
        "plexichat.generate.promql",
        "plexichat.generate.rules",
        "plexichat.generate.slo",
        "plexichat.stack.status_command",
        "plexichat.cli",
    ]
    run = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRA, *modules], capture_output=True, text=True
    )
    out, err = run.stdout.split(), run.stderr
    assert out == ["60.0", "plexichat"], err
    # Only the writer (dashboards) needs the extra, and says so when asked for.
    assert "import of grafanalib halted" in err
