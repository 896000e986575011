"""Settings the way a user meets them: defaults, the settings file, TRENDREEL_* variables, mistakes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from trendreel.errors import ConfigError
from trendreel.settings import DEFAULT_HOME, Settings, config_path, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No TRENDREEL_* variable of the machine running the tests leaks in; ~ points to an empty folder."""
    for name in list(os.environ):
        if name.startswith("TRENDREEL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


SOURCES_TOML = """
[[sources]]
name = "news"
kind = "feed"
urls = ["https://news.example.com/rss"]

[[sources]]
name = "blog"
kind = "site"
urls = ["https://blog.example.com/"]
max_depth = 1
"""


# --------------------------------------------------------------------------- defaults


def test_defaults_live_inside_the_home_folder(tmp_path):
    home = tmp_path / "home"
    s = load_settings(home=home)
    assert s.home == home.absolute()
    assert s.database_url == f"sqlite:///{home / 'trendreel.db'}"
    assert s.files_url == (home / "files").as_uri()
    assert s.sources == []
    assert s.crawl.delay_s == 1.0
    assert s.crawl.respect_robots is True
    assert s.crawl.allow_private is False
    assert s.log_level == "WARNING"


def test_relative_home_becomes_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(home=Path("rel-home"))
    assert s.home == tmp_path / "rel-home"
    assert s.database_url == f"sqlite:///{tmp_path / 'rel-home' / 'trendreel.db'}"


def test_home_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TRENDREEL_HOME", str(tmp_path / "env-home"))
    s = load_settings()
    assert s.home == tmp_path / "env-home"
    assert s.files_url == (tmp_path / "env-home" / "files").as_uri()


def test_empty_home_variable_counts_as_unset(tmp_path, monkeypatch):
    monkeypatch.setenv("TRENDREEL_HOME", "")
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s.home == DEFAULT_HOME
    assert s.home != tmp_path


def test_explicit_urls_are_kept(tmp_path):
    s = load_settings(home=tmp_path, database_url="postgresql+psycopg://u@db/x", files_url="memory://")
    assert s.database_url == "postgresql+psycopg://u@db/x"
    assert s.files_url == "memory://"


# --------------------------------------------------------------------------- the settings file


def test_settings_file_in_home_given_as_argument(tmp_path):
    home = tmp_path / "home"
    _write(home / "trendreel.toml", '[crawl]\ndelay_s = 2.5\nper_host_concurrency = 3\n' + SOURCES_TOML)
    s = load_settings(home=home)
    assert config_path(home) == home / "trendreel.toml"
    assert s.crawl.delay_s == 2.5
    assert s.crawl.per_host_concurrency == 3
    assert [src.name for src in s.sources] == ["news", "blog"]
    assert s.source("blog").max_depth == 1
    assert s.source("news").kind == "feed"


def test_settings_file_in_home_from_environment(tmp_path, monkeypatch):
    home = tmp_path / "env-home"
    _write(home / "trendreel.toml", 'log_json = true\n[s3]\nendpoint = "http://127.0.0.1:8333"\n')
    monkeypatch.setenv("TRENDREEL_HOME", str(home))
    s = load_settings()
    assert s.home == home
    assert s.log_json is True
    assert s.s3.endpoint == "http://127.0.0.1:8333"


def test_home_argument_wins_over_environment(tmp_path, monkeypatch):
    _write(tmp_path / "env-home" / "trendreel.toml", "[crawl]\ndelay_s = 7\n")
    _write(tmp_path / "arg-home" / "trendreel.toml", "[crawl]\ndelay_s = 3\n")
    monkeypatch.setenv("TRENDREEL_HOME", str(tmp_path / "env-home"))
    s = load_settings(home=tmp_path / "arg-home")
    assert s.home == tmp_path / "arg-home"
    assert s.crawl.delay_s == 3


def test_no_settings_file_is_fine(tmp_path):
    assert config_path(tmp_path / "empty") is None
    assert load_settings(home=tmp_path / "empty").crawl.delay_s == 1.0


def test_trendreel_config_names_the_file(tmp_path, monkeypatch):
    cfg = _write(tmp_path / "elsewhere" / "my.toml", "[crawl]\ndelay_s = 0.25\n")
    _write(tmp_path / "home" / "trendreel.toml", "[crawl]\ndelay_s = 9\n")
    monkeypatch.setenv("TRENDREEL_CONFIG", str(cfg))
    s = load_settings(home=tmp_path / "home")
    assert s.crawl.delay_s == 0.25


def test_trendreel_config_pointing_to_a_missing_file(tmp_path, monkeypatch):
    missing = tmp_path / "nope" / "missing.toml"
    monkeypatch.setenv("TRENDREEL_CONFIG", str(missing))
    with pytest.raises(ConfigError) as info:
        load_settings(home=tmp_path)
    assert str(missing) in str(info.value)
    assert "TRENDREEL_CONFIG" in str(info.value)


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    home = tmp_path / "home"
    _write(home / "trendreel.toml", "[crawl]\ndelay_s = 2.0\nretries = 5\n")
    monkeypatch.setenv("TRENDREEL_CRAWL__DELAY_S", "0.5")
    s = load_settings(home=home)
    assert s.crawl.delay_s == 0.5
    assert s.crawl.retries == 5  # the rest of [crawl] still comes from the file


def test_arguments_override_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TRENDREEL_LOG_LEVEL", "DEBUG")
    s = load_settings(home=tmp_path, log_level="ERROR")
    assert s.log_level == "ERROR"


def test_log_level_is_case_insensitive(tmp_path, monkeypatch):
    monkeypatch.setenv("TRENDREEL_LOG_LEVEL", "info")
    assert load_settings(home=tmp_path).log_level == "INFO"


# --------------------------------------------------------------------------- mistakes


def _config_error(home: Path, toml: str) -> str:
    _write(home / "trendreel.toml", toml)
    with pytest.raises(ConfigError) as info:
        load_settings(home=home)
    return str(info.value)


@pytest.mark.parametrize(("toml", "field"), [
    ('[crawl]\ndelay_s = "soon"\n', "crawl.delay_s"),
    ("[crawl]\ndelay_s = -1\n", "crawl.delay_s"),
    ("[crawl]\nper_host_concurrency = 0\n", "crawl.per_host_concurrency"),
    ("[crawl]\nnear_duplicate_similarity = 1.5\n", "crawl.near_duplicate_similarity"),
    ('log_level = "LOUD"\n', "log_level"),
    ('[[sources]]\nname = "x"\nkind = "ftp"\nurls = ["https://a.example/"]\n', "sources.0.kind"),
    ('[[sources]]\nname = "x"\nkind = "feed"\nurls = []\n', "sources.0.urls"),
    ('[[sources]]\nname = "has space"\nkind = "feed"\nurls = ["https://a.example/"]\n', "sources.0.name"),
    ('[[sources]]\nkind = "feed"\nurls = ["https://a.example/"]\n', "sources.0.name"),
])
def test_invalid_values_name_the_field(tmp_path, toml, field):
    msg = _config_error(tmp_path / "home", toml)
    assert f"{field}:" in msg
    assert "invalid settings" in msg


def test_invalid_environment_value_names_the_field(tmp_path, monkeypatch):
    monkeypatch.setenv("TRENDREEL_CRAWL__DELAY_S", "fast")
    with pytest.raises(ConfigError) as info:
        load_settings(home=tmp_path)
    assert "crawl.delay_s" in str(info.value)
    assert "TRENDREEL_" in str(info.value)  # the message says where such values come from


def test_several_mistakes_are_reported_together(tmp_path):
    msg = _config_error(tmp_path / "home", '[crawl]\ndelay_s = "x"\nretries = 99\n')
    assert "crawl.delay_s" in msg and "crawl.retries" in msg


def test_duplicate_source_names_are_refused(tmp_path):
    msg = _config_error(tmp_path / "home", SOURCES_TOML + '\n[[sources]]\nname = "news"\nkind = "urls"\nurls = ["https://x.example/1"]\n')
    assert "sources:" in msg
    assert "unique" in msg and "news" in msg
    assert "Value error" not in msg


def test_bad_toml_names_the_file(tmp_path):
    home = tmp_path / "home"
    msg = _config_error(home, "[crawl\ndelay_s = 1\n")
    assert str(home / "trendreel.toml") in msg
    assert "line 1" in msg


def test_settings_file_that_is_not_utf8_names_it(tmp_path, monkeypatch):
    cfg = tmp_path / "latin1.toml"
    cfg.write_bytes(b'log_level = "\xff"\n')
    monkeypatch.setenv("TRENDREEL_CONFIG", str(cfg))
    with pytest.raises(ConfigError) as info:
        load_settings(home=tmp_path / "home")
    assert str(cfg) in str(info.value)


def test_folder_named_like_the_settings_file_is_not_read(tmp_path):
    home = tmp_path / "home"
    (home / "trendreel.toml").mkdir(parents=True)
    assert config_path(home) is None
    assert load_settings(home=home).home == home


@pytest.mark.parametrize(("toml", "where", "known"), [
    ("bogus = 1\n", "bogus", "database_url"),
    ("[crawl]\ndelay = 2\n", "crawl.delay", "delay_s"),
    ('[s3]\nendpoint_url = "http://127.0.0.1:1"\n', "s3.endpoint_url", "endpoint"),
    ('[[sources]]\nname = "x"\nkind = "site"\nurls = ["https://a.example/"]\nmaxdepth = 3\n', "sources.0.maxdepth", "max_depth"),
])
def test_unknown_keys_are_refused_with_the_known_ones(tmp_path, toml, where, known):
    msg = _config_error(tmp_path / "home", toml)
    assert f"{where}: unknown setting" in msg
    assert known in msg
    assert "Extra inputs" not in msg


def test_unknown_nested_environment_key_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("TRENDREEL_CRAWL__DELAY", "2")
    with pytest.raises(ConfigError) as info:
        load_settings(home=tmp_path)
    assert "crawl.delay: unknown setting" in str(info.value)


def test_unrelated_trendreel_variables_are_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("TRENDREEL_TEST_PG_URL", "postgresql+psycopg://x@127.0.0.1/y")
    assert load_settings(home=tmp_path).home == tmp_path


def test_unknown_source_lists_the_known_ones(tmp_path):
    _write(tmp_path / "home" / "trendreel.toml", SOURCES_TOML)
    s = load_settings(home=tmp_path / "home")
    with pytest.raises(ConfigError) as info:
        s.source("nwes")
    msg = str(info.value)
    assert "'nwes'" in msg and "news" in msg and "blog" in msg
    assert "[[sources]]" in msg


def test_unknown_source_without_any_configured(tmp_path):
    with pytest.raises(ConfigError, match="none configured"):
        load_settings(home=tmp_path).source("x")


def test_settings_object_directly_still_validates(tmp_path):
    """Code that builds Settings itself (tests, the demo) gets the same checks."""
    with pytest.raises(ValidationError):
        Settings(home=tmp_path, crawl={"delay_s": -1})
    with pytest.raises(ValidationError):
        Settings(home=tmp_path, crawl={"dealy_s": 1})
