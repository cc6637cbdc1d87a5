from __future__ import annotations

from pathlib import Path

import pytest

from posboxless.config import Config, load_config, parse_config, with_overrides
from posboxless.settings import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_defaults_are_safe() -> None:
    config = Config()
    assert config.server.host == "127.0.0.1"
    assert config.server.http_port == 8069
    assert config.simulate  # nothing configured: a newcomer sees simulated devices
    assert config.origin_policy_open


def test_server_section(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[server]
host = "0.0.0.0"
http_port = 8070
https_port = 0
allowed_origins = ["https://Coop.Example.com/"]
data_dir = "/tmp/pbl"
""",
    )
    config = load_config(path)
    assert config.server.host == "0.0.0.0"
    assert config.server.https_port == 0
    assert config.server.allowed_origins == ("https://coop.example.com",)
    assert config.source == path


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("[server]\nhttp_port = 'x'", "server.http_port", "an integer"),
        ("[server]\nhttp_port = 70000", "server.http_port", "an integer from 1 to 65535"),
        ("[server]\nhots = '1.2.3.4'", "server.hots", "a known key"),
        ("[server]\nallowed_origins = ['coop.example.com']", "server.allowed_origins", "origins"),
        ("[server]\nallowed_origins = 'https://a.b'", "server.allowed_origins", "a list"),
        ("[server]\nsimulate = 'yes'", "server.simulate", "true or false"),
        ("[server]\ntls_cert = '/a.pem'", "server.tls_key", "together"),
        ("[server]\nlog_level = 'loud'", "server.log_level", "one of"),
        ("[server]\nhttps_port = 8069", "server.https_port", "different"),
        ("[sever]\nhost = 'x'", "sever", "a known key"),
        ("server = 3", "server", "a table"),
    ],
)
def test_invalid_values_name_the_key(tmp_path: Path, text: str, key: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert info.value.key == key
    assert expected in str(info.value)


def test_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="valid TOML"):
        load_config(write(tmp_path, "[server\n"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="an existing configuration file"):
        load_config(tmp_path / "nope.toml")


def test_default_location_used_when_present(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from posboxless import config as config_module

    monkeypatch.setattr(
        config_module, "DEFAULT_CONFIG_PATH", write(tmp_path, "[server]\nhttp_port = 9000")
    )
    assert load_config(None).server.http_port == 9000
    monkeypatch.setattr(config_module, "DEFAULT_CONFIG_PATH", tmp_path / "absent.toml")
    assert load_config(None).server.http_port == 8069


def test_flags_override_file() -> None:
    config = parse_config({"server": {"http_port": 9000, "host": "0.0.0.0"}})
    config = with_overrides(config, http_port=9001, host=None, simulate=True)
    assert config.server.http_port == 9001
    assert config.server.host == "0.0.0.0"
    assert config.simulate
    with pytest.raises(ConfigError):
        with_overrides(config, https_port=9001)


def test_state_directory_from_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    from posboxless.config import default_data_dir

    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/posboxless")
    assert default_data_dir() == Path("/var/lib/posboxless")
