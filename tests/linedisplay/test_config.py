from __future__ import annotations

import pytest

from posboxless.config import parse_config
from posboxless.settings import ConfigError


def test_defaults_per_profile() -> None:
    config = parse_config({"customer_display": {"port": "/dev/ttyUSB0"}}).customer_display
    assert config is not None
    assert config.profile == "epson" and config.commands.code_table == 19
    assert str(config.serial_settings) == "9600 8N1"
    assert config.welcome == ("Welcome!", "")
    aures = parse_config({"customer_display": {"port": "/dev/x", "profile": "aures"}})
    assert aures.customer_display is not None
    assert aures.customer_display.commands.opening() == bytes.fromhex(
        "02 05 43 31 03 02 05 54 01 03 02 05 55 13 03"
    )


def test_overrides() -> None:
    table = {
        "port": "/dev/ttyS0",
        "profile": "bixolon",
        "serial_settings": "19200 8N1",
        "code_table": 16,
        "init": "1B 40 1F 43 00",
        "clear": "",
        "goto": "cd5220",
        "width": 16,
        "read_after_write": 0.05,
        "welcome": ["Bonjour", "et bienvenue"],
        "welcome_after": 0,
    }
    config = parse_config({"customer_display": table}).customer_display
    assert config is not None
    c = config.commands
    assert (c.init, c.clear, c.goto, c.width, c.code_table) == (
        b"\x1b\x40\x1f\x43\x00",
        b"",
        "cd5220",
        16,
        16,
    )
    assert config.serial_settings.baudrate == 19200 and config.welcome_after == 0
    ascii_only = parse_config({"customer_display": {"port": "/x", "code_table": "ascii"}})
    assert ascii_only.customer_display and ascii_only.customer_display.commands.code_table is None


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({}, "customer_display.port"),
        ({"port": "/x", "profile": "star"}, "customer_display.profile"),
        ({"port": "/x", "init": "zz"}, "customer_display.init"),
        ({"port": "/x", "code_table": 99}, "customer_display.code_table"),
        ({"port": "/x", "code_table": "cp858"}, "customer_display.code_table"),
        ({"port": "/x", "welcome": ["a", "b", "c"]}, "customer_display.welcome"),
        ({"port": "/x", "serial_settings": "fast"}, "customer_display.serial_settings"),
        ({"port": "/x", "colour": "green"}, "customer_display.colour"),
    ],
)
def test_bad_configuration(table: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({"customer_display": table})
    assert error.value.key == key


def test_template_example_is_valid() -> None:
    import re

    from posboxless.ops.config_file import check_config_text, render_config

    example = re.compile(r"^# (\[\[?[a-z_]+\]\]?(\s+#.*)?|[a-z_]+ = .*)$")
    text = "\n".join(
        line[2:] if example.match(line) else line for line in render_config().splitlines()
    )
    display = check_config_text(text).customer_display
    assert display is not None and display.profile == "epson"
    assert display.commands.init == b"\x1f\x43\x00" and display.welcome_after == 300


PRINTER = {"name": "receipt", "host": "192.168.1.50:9100"}


def test_display_through_a_printer() -> None:
    config = parse_config({"printer": [PRINTER], "customer_display": {"printer": "receipt"}})
    display = config.customer_display
    assert display is not None and display.printer == "receipt" and display.port is None
    assert display.profile == "epson" and display.commands.code_table == 19


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ({"printer": "receipt", "port": "/x"}, "customer_display.printer", "not both"),
        ({}, "customer_display.port", "printer ="),
        ({"printer": "kitchen"}, "customer_display.printer", "'receipt'"),
        ({"printer": ""}, "customer_display.printer", "name of a [[printer]]"),
        (
            {"printer": "receipt", "serial_settings": "9600 8N1"},
            "customer_display.serial_settings",
            "printer's own connection",
        ),
        ({"printer": "receipt", "read_after_write": 0.1}, "customer_display.read_after_write", ""),
        ({"printer": "receipt", "write_timeout": 1}, "customer_display.write_timeout", ""),
        # bytes the printer itself would act on while passing them to the display
        ({"printer": "receipt", "init": "10 04 01"}, "customer_display.init", "real-time"),
        ({"printer": "receipt", "clear": "1B 3D 01 0C"}, "customer_display.clear", "ESC ="),
        ({"printer": "receipt", "setup": "10 14 01 00 01"}, "customer_display.setup", "real-time"),
    ],
)
def test_bad_display_through_a_printer(table: dict[str, object], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({"printer": [PRINTER], "customer_display": table})
    assert error.value.key == key
    assert words in str(error.value)


def test_a_code_table_number_that_looks_like_dle_is_fine_through_a_printer() -> None:
    """ESC t 16 holds a 10 byte, but no real-time command follows it."""
    table = {"printer": "receipt", "code_table": 16}
    config = parse_config({"printer": [PRINTER], "customer_display": table})
    assert config.customer_display is not None


def test_the_display_line_speed_behind_a_printer() -> None:
    """The PC cannot see the display's speed behind the printer: 9600 unless configured."""
    config = parse_config({"printer": [PRINTER], "customer_display": {"printer": "receipt"}})
    assert config.customer_display is not None and config.customer_display.baudrate == 9600
    table = {"printer": "receipt", "baudrate": 19200}
    config = parse_config({"printer": [PRINTER], "customer_display": table})
    assert config.customer_display is not None and config.customer_display.baudrate == 19200


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"port": "/dev/ttyUSB0", "baudrate": 9600}, "serial_settings"),
        ({"printer": "receipt", "baudrate": 0}, ""),
        ({"printer": "receipt", "baudrate": "fast"}, ""),
    ],
)
def test_bad_display_line_speed(table: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({"printer": [PRINTER], "customer_display": table})
    assert error.value.key == "customer_display.baudrate"
    assert words in str(error.value)
