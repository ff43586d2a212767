# The `helm test` check (templates/tests/test-stack.yaml runs it in the service image):
# /healthz answers 200, and Prometheus has loaded every expected rule group.
import json
import os
import sys
import time
import urllib.request


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        if response.status != 200:
            sys.exit(f"{url}: HTTP {response.status}")
        body: bytes = response.read()
        return body


get(os.environ["SERVICE_URL"] + "/healthz")
print("service /healthz: ok")
prometheus = os.environ.get("PROMETHEUS_URL")
if prometheus:
    expected = {name for name in os.environ.get("EXPECTED_RULE_GROUPS", "").split(",") if name}
    deadline = time.monotonic() + float(os.environ.get("RULES_WAIT_SECONDS", "60"))
    while True:
        groups = json.loads(get(prometheus + "/api/v1/rules"))["data"]["groups"]
        missing = expected - {group["name"] for group in groups}
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(2)
    if missing:
        sys.exit(f"Prometheus has not loaded the rule groups {sorted(missing)}")
    print(f"Prometheus rule groups loaded: {len(expected)}")
