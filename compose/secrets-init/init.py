"""Create the stack's secrets once, in the `secrets` volume, and keep them across restarts.

Runs in the PlexiChat image before Redis and Grafana start. For each secret: the value of its
environment variable when one is given (GRAFANA_ADMIN_PASSWORD, REDIS_PASSWORD), else the file
already in the volume, else a new random value. Nothing secret is written into the repository.

A file holds the password's UTF-8 bytes exactly (no newline added). A given password may hold
any character but a line break: the bundles read the file with the shell's $(cat ...), which
drops trailing newlines, so such a password would reach Redis and its clients differently.
"""

import os
import secrets
import sys
from pathlib import Path

SECRETS = {"grafana-admin-password": "GRAFANA_ADMIN_PASSWORD", "redis-password": "REDIS_PASSWORD"}
directory = Path(os.environ.get("SECRETS_DIR", "/secrets"))

for name, variable in SECRETS.items():
    path = directory / name
    given = os.environ.get(variable, "")
    if "\n" in given or "\r" in given:
        sys.exit(f"{variable}: a password may not contain a line break")
    if given:
        value = given
    elif path.exists() and path.read_text().strip():
        continue
    else:
        value = secrets.token_urlsafe(24)
    path.unlink(missing_ok=True)  # it is read-only once written
    path.write_text(value, encoding="utf-8")
    # Read by Grafana (uid 472), Redis (999) and the service (10001): the volume is mounted
    # read-only into those three containers only.
    path.chmod(0o444)
    print(f"wrote {path}")
