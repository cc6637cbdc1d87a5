"""The udev rules file, with the block for browser-read scales on or off.

Web Serial in Chrome opens the scale's port as the logged-in user. The ``uaccess`` tag gives the
user of the active seat an ACL on the device (systemd-logind), which is narrower than the
``chmod 666`` Odoo's documentation suggests: nobody else, no other session, gets access. It is
only wanted when the browser owns the scale; when posboxless does, a browser must not be able to
open the port at all, so the block stays commented out.
"""

from __future__ import annotations

from posboxless.config import Config
from posboxless.ops.resources import template

BROWSER_SCALE_MARK = "#browser-scale# "
UACCESS = 'TAG+="uaccess"'


def browser_scale_usb(config: Config | None) -> tuple[int, int] | bool | None:
    """False when the browser does not own the scale; else its USB id (None if not given)."""
    if config is None or config.scale is None or not config.scale.browser_owned:
        return False
    return config.scale.usb


def render_rules(config: Config | None) -> str:
    text = template("70-posboxless.rules")
    usb = browser_scale_usb(config)
    if usb is False:
        return text
    lines = []
    for line in text.splitlines():
        if line.startswith(BROWSER_SCALE_MARK):
            line = line[len(BROWSER_SCALE_MARK) :]
            lines.append(line)
            if isinstance(usb, tuple) and usb[0] != 0x0EB8:
                vendor, product = usb
                lines.append(
                    f'SUBSYSTEM=="tty", ATTRS{{idVendor}}=="{vendor:04x}", '
                    f'ATTRS{{idProduct}}=="{product:04x}", {UACCESS}'
                )
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"


def active_uaccess_lines(rules_text: str) -> list[str]:
    return [
        line
        for line in rules_text.splitlines()
        if UACCESS in line and not line.lstrip().startswith("#")
    ]
