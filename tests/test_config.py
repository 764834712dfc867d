"""The config file: strict, versioned, and written back exactly as it reads."""

from __future__ import annotations

import pytest

from secondme.daemon.config import (
    Config,
    ConfigError,
    load_config,
    parse_config,
    render_config,
    with_setting,
    write_config,
)
from secondme.daemon.paths import Paths
from secondme.network.limits import MeshLimits
from secondme.network.settings import NetworkSettings


def test_default_config_round_trips_through_toml():
    assert parse_config(render_config(Config())) == Config()


def test_unknown_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key 'jobs\.max_concurent'"):
        parse_config("version = 1\n[jobs]\nmax_concurent = 2\n")
    with pytest.raises(ConfigError, match=r"unknown key 'ingestion'"):
        parse_config("[ingestion]\nchunk_tokens = 2\n")


def test_wrong_types_and_bad_values_are_refused():
    with pytest.raises(ConfigError, match=r"'ingest\.chunk_tokens' has the wrong type"):
        parse_config('[ingest]\nchunk_tokens = "many"\n')
    with pytest.raises(ConfigError, match="chunk_overlap"):
        parse_config("[ingest]\nchunk_tokens = 64\nchunk_overlap = 64\n")
    with pytest.raises(ConfigError, match="log_format"):
        parse_config('[daemon]\nlog_format = "xml"\n')
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_config("[ingest\n")
    with pytest.raises(ConfigError, match=r"owner\.pronouns must be they, she or he"):
        parse_config('[owner]\npronouns = "it"\n')


def test_a_newer_config_version_is_refused_with_advice():
    with pytest.raises(ConfigError, match="version 2 is not supported"):
        parse_config("version = 2\n")


def test_missing_file_means_defaults(tmp_path):
    assert load_config(tmp_path / "absent.toml") == Config()


def test_paths_prefer_flag_then_environment_then_config(tmp_path, monkeypatch):
    monkeypatch.setenv("SECONDME_DATA_DIR", str(tmp_path / "env"))
    assert Paths.resolve(data_dir=tmp_path / "flag").data_dir == tmp_path / "flag"
    assert Paths.resolve(config_data_dir=str(tmp_path / "cfg")).data_dir == tmp_path / "env"
    monkeypatch.delenv("SECONDME_DATA_DIR")
    assert Paths.resolve(config_data_dir=str(tmp_path / "cfg")).data_dir == tmp_path / "cfg"
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.delenv("SECONDME_SOCKET", raising=False)
    assert Paths.resolve().socket == tmp_path / "run" / "secondme" / "secondmed.sock"


def test_a_written_config_holds_only_what_differs_from_the_defaults(tmp_path):
    path = tmp_path / "config.toml"
    config = with_setting(with_setting(Config(), "owner.name", "Alex Morgan"), "jobs.max_concurrent", "2")
    write_config(path, config)
    text = path.read_text()
    assert text.splitlines()[0] == "version = 1"
    assert '[owner]\nname = "Alex Morgan"' in text and "[jobs]\nmax_concurrent = 2" in text
    assert "[ingest]" not in text and "chunk_tokens" not in text
    assert load_config(path) == config


def test_one_setting_is_changed_by_its_dotted_name_and_checked():
    assert with_setting(Config(), "network.mdns", "false").network.mdns is False
    assert with_setting(Config(), "owner.name", 'Ann "Nan" Lee').owner.name == 'Ann "Nan" Lee'
    with pytest.raises(ConfigError, match=r"unknown setting 'owner\.nmae'"):
        with_setting(Config(), "owner.nmae", "x")
    with pytest.raises(ConfigError, match="wrong type"):
        with_setting(Config(), "jobs.max_concurrent", "1.5")
    with pytest.raises(ConfigError, match="not a TOML value"):
        with_setting(Config(), "jobs.max_concurrent", "many")
    with pytest.raises(ConfigError, match="at least 1"):
        with_setting(Config(), "jobs.max_concurrent", "0")


def test_the_network_section_is_the_settings_the_node_runs_on():
    config = parse_config("version = 1\n[network]\nmax_connections = 8\nstrikes_before_ban = 2\nmdns = false\n")
    assert isinstance(config.network, NetworkSettings) and isinstance(config.network, MeshLimits)
    assert (config.network.max_connections, config.network.strikes_before_ban, config.network.mdns) == (8, 2, False)
    with pytest.raises(ConfigError, match=r"network\.strikes_before_ban must be at least 1"):
        parse_config("version = 1\n[network]\nstrikes_before_ban = 0\n")
