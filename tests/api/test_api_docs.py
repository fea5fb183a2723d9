"""The README keeps up with the code: every setting in its table, every route described."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api import SETTINGS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_setting_is_in_the_configuration_table(name):
    assert re.search(rf"^\| `QUOTECHECK_{name}` \|", README, re.M), name


def test_every_route_is_described(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/v1/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", "<id>", rule.rule)
        assert f"`{path}`" in README or f" {path}`" in README, path
