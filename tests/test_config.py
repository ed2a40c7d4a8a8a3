"""Configuration: defaults, the TOML file, environment variables, and clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from harvester.config import Config, load_config
from harvester.errors import ConfigError


def test_defaults_follow_the_services_terms(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={})
    assert config.db == Path("db/harvester.db")
    assert config.reports == Path("reports")
    assert config.arxiv_url == "https://export.arxiv.org/api/query"
    assert config.s2_url == "https://api.semanticscholar.org/graph/v1"
    assert config.arxiv_delay == 3.0 and config.s2_delay == 1.0
    assert config.max_per_query == 10_000
    assert config.arxiv_page_size <= 2000


def test_file_then_environment_then_options(tmp_path):
    path = tmp_path / "harvester.toml"
    path.write_text('db = "from-file.db"\narxiv_delay = 5\ncontact = "me@example.org"\n')
    env = {"HARVESTER_DB": "from-env.db", "HARVESTER_ARXIV_DELAY": "0.5", "S2_API_KEY": "k"}
    config = load_config(path, environ=env)
    assert config.db == Path("from-env.db")
    assert config.arxiv_delay == 0.5
    assert config.s2_api_key == "k"
    assert "mailto:me@example.org" in config.user_agent
    assert load_config(path, environ=env, overrides={"db": "cli.db"}).db == Path("cli.db")


def test_api_key_never_shows_in_repr():
    assert "secret-key" not in repr(Config(s2_api_key="secret-key"))


@pytest.mark.parametrize(
    "text, message",
    [
        ("arxiv_delay = -1", r"harvester.toml.*arxiv_delay = -1.0 must be zero or more"),
        ('max_per_query = "many"', r"max_per_query = 'many' is not a valid int"),
        ("arxiv_page_size = 5000", r"arxiv_page_size = 5000 must be 1 to 2000"),
        ("colour = 3", r"unknown key 'colour'"),
        ('s2_api_key = "abc"', r"put the Semantic Scholar key in S2_API_KEY"),
        ("db = ", r"harvester.toml: .*line 1"),
    ],
)
def test_bad_config_file_is_one_clear_line(tmp_path, text, message):
    path = tmp_path / "harvester.toml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError, match=message):
        load_config(path, environ={})


def test_bad_environment_value_names_the_variable(tmp_path):
    with pytest.raises(ConfigError, match="HARVESTER_ARXIV_DELAY: arxiv_delay = 'soon'"):
        load_config(
            tmp_path / "absent.toml" if False else None, environ={"HARVESTER_ARXIV_DELAY": "soon"}
        )


def test_explicit_config_file_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml", environ={})
