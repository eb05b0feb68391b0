from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pilot.errors import PilotError
from pilot.settings import load_settings
from stack.config import (
    PLACEHOLDER,
    SECRET_PLACEHOLDERS,
    TEMPLATE_ROOT,
    TEMPLATES,
    render,
    render_text,
    template_values,
)


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings({"PILOT_VAR_DIR": str(tmp_path / "var")}, env_file=tmp_path / ".env")


def test_every_placeholder_of_every_template_is_known(settings) -> None:
    values = {**template_values(settings), **SECRET_PLACEHOLDERS}
    for files in TEMPLATES.values():
        for rel in files:
            names = set(PLACEHOLDER.findall((TEMPLATE_ROOT / rel).read_text()))
            assert names <= set(values), f"{rel}: unknown {names - set(values)}"


@pytest.mark.parametrize("runtime", sorted(TEMPLATES))
def test_templates_render_and_xml_parses(settings, runtime: str) -> None:
    out = render(settings, runtime)
    for rel in TEMPLATES[runtime]:
        text = (out / Path(rel).name).read_text()
        assert not PLACEHOLDER.search(text)
        if rel.endswith(".xml"):
            ET.fromstring(text.split("?>", 1)[-1] if text.startswith("<?xml") else text)


def _settings_text(path: Path) -> str:
    """The file without comments: XML comments and `#` lines."""
    text = re.sub(r"<!--.*?-->", "", path.read_text(), flags=re.S)
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def test_native_configs_bind_loopback_only(settings) -> None:
    for runtime in TEMPLATES:
        out = render(settings, runtime)
        for path in out.iterdir():
            assert "0.0.0.0" not in _settings_text(path), path


def test_unknown_placeholder_is_a_clear_error() -> None:
    with pytest.raises(PilotError, match="NOPE"):
        render_text("x=${NOPE}", {}, "demo.conf")


def test_foreign_dollar_syntax_is_left_alone() -> None:
    assert render_text("${sys:kafka.log.file} ${hadoop.log.dir} ${A}", {"A": "1"}) == \
        "${sys:kafka.log.file} ${hadoop.log.dir} 1"


def test_a_template_holding_a_secret_renders_private_and_escaped(tmp_path: Path) -> None:
    s = load_settings({"PILOT_VAR_DIR": str(tmp_path / "var"), "PILOT_HIVE_METASTORE_PASSWORD": "a<b&c"},
                      env_file=tmp_path / ".env")
    out = render(s, "hive")
    site = out / "hive-site.xml"
    assert site.stat().st_mode & 0o777 == 0o600, "the metastore password must not be world-readable"
    assert (out / "spark-defaults.conf").stat().st_mode & 0o077 != 0, "secret-free files stay readable"
    props = {p.findtext("name"): p.findtext("value")
             for p in ET.fromstring(site.read_text()).iter("property")}
    assert props["javax.jdo.option.ConnectionPassword"] == "a<b&c"
    assert props["javax.jdo.option.ConnectionURL"] == s.hive_metastore_jdbc_url
    assert props["javax.jdo.option.ConnectionURL"].startswith("jdbc:postgresql://")
