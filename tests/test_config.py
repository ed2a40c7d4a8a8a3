"""Configuration: defaults, the TOML file, environment variables, and clear refusals."""

from __future__ import annotations

import json
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


@pytest.mark.parametrize(
    "text, message",
    [
        ("timeout = inf", r"harvester.toml: timeout = inf must be a finite number"),
        ("arxiv_delay = nan", r"harvester.toml: arxiv_delay = nan must be a finite number"),
        ("backoff_max = -inf", r"harvester.toml: backoff_max = -inf must be a finite number"),
        ("timeout = 1e300", r"timeout = 1e\+300 must be at most 3600 seconds"),
        ("refresh_days = 1000000000", r"refresh_days = 1000000000 must be at most 3650 days"),
        ("overlap_days = 99999999999", r"overlap_days = 99999999999 must be at most 3650 days"),
        ("retries = 100000", r"retries = 100000 must be at most 100"),
        ("stale_lock_after = 1e12", r"stale_lock_after = 1000000000000.0 must be at most 604800"),
        ("max_per_query = 10000000000", r"max_per_query = 10000000000 must be at most 1000000"),
        ('arxiv_url = "ftp://example.org/api"', r"arxiv_url = 'ftp://example.org/api' must be an"),
        ('s2_url = "https://exa mple.org"', r"s2_url = 'https://exa mple.org' must be an http"),
    ],
)
def test_numbers_must_be_finite_and_in_range(tmp_path, text, message):
    path = tmp_path / "harvester.toml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError, match=message):
        load_config(path, environ={})


@pytest.mark.parametrize(
    "var, value, message",
    [
        (
            "HARVESTER_ARXIV_DELAY",
            "1e309",
            "HARVESTER_ARXIV_DELAY: arxiv_delay = inf must be a finite",
        ),
        ("HARVESTER_S2_DELAY", "NaN", "HARVESTER_S2_DELAY: s2_delay = nan must be a finite"),
        ("HARVESTER_ARXIV_DELAY", "86400", "arxiv_delay = 86400.0 must be at most 3600 seconds"),
    ],
)
def test_environment_numbers_must_be_finite_and_in_range(var, value, message):
    with pytest.raises(ConfigError, match=message):
        load_config(environ={var: value})


@pytest.mark.parametrize(
    "contact",
    ["me@example.org\r\nX-Injected: 1", "me@example.org\n", "me\x00@example.org", "mé@example.org"],
)
def test_a_contact_that_cannot_be_a_header_value_is_refused(tmp_path, contact):
    path = tmp_path / "harvester.toml"
    path.write_text(f"contact = {json.dumps(contact)}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"harvester.toml: contact = .* must be printable ASCII"):
        load_config(path, environ={})


@pytest.mark.parametrize(
    "content, message",
    [
        (b'contact = "caf\xe9@example.org"\n', r"harvester.toml:1: not UTF-8 text \(byte 0xe9\)"),
        (b"retries = 1\n\n\xff\xfe = 2\n", r"harvester.toml:3: not UTF-8 text \(byte 0xff\)"),
        (b"harvester = 3\n", r"harvester.toml: harvester must be a table of settings"),
        (b"retries = 1\nretries = 2\n", r"harvester.toml: Cannot overwrite a value \(at line 2"),
        (b"timeout = 1979-05-27\n", r"harvester.toml: timeout = .* is not a valid float"),
        (b"[harvester]\ndb = [1]\n", r"harvester.toml: db = \[1\] is not a valid path"),
    ],
)
def test_every_error_in_the_config_file_names_it(tmp_path, content, message):
    path = tmp_path / "harvester.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        load_config(path, environ={})


def test_the_key_is_stripped_and_a_blank_key_is_no_key():
    assert load_config(environ={"S2_API_KEY": " abc-123\r\n"}).s2_api_key == "abc-123"
    assert load_config(environ={"S2_API_KEY": " \r\n"}).s2_api_key is None
