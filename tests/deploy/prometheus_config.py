"""What both bundles' Prometheus configuration says about histograms, checked on each: the
service's job stores native histograms and keeps their classic series (``scrape_native_histograms``
and ``always_scrape_classic_histograms``, Prometheus >= 3.8), no other job or ``global`` touches
either (``plexichat.generate.stack.prometheus._service_job`` says why)."""

from __future__ import annotations

from typing import Any

from plexichat.catalog.model import JOB

KEYS = ("scrape_native_histograms", "always_scrape_classic_histograms")


def assert_native_histograms_on_the_service_job_only(config: dict[str, Any]) -> None:
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert {key: jobs[JOB].get(key) for key in KEYS} == dict.fromkeys(KEYS, True)
    for name, job in jobs.items():
        if name != JOB:
            assert not set(KEYS) & job.keys(), name
    assert not set(KEYS) & config["global"].keys()
