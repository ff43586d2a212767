"""Prometheus rule files as YAML text: the banner, then ``groups``; multi-line PromQL as blocks."""

from __future__ import annotations

from typing import Any

import yaml

from plexichat.generate import banner


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def render(groups: list[dict[str, Any]], profile: str | None) -> str:
    """A Prometheus rule file: ``profile``'s banner, then ``groups`` as YAML in the order given."""
    body = yaml.dump(
        {"groups": groups}, Dumper=_Dumper, sort_keys=False, width=1000, allow_unicode=True
    )
    return banner.yaml_comment(profile) + body
