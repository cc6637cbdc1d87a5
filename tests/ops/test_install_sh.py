"""install.sh with a throwaway PREFIX and root: what it writes, where, and that it never starts
the proxy as root nor replaces a foreign ``posboxless`` command without consent."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from posboxless.ops.accounts import UserDatabase
from posboxless.ops.layout import Layout

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "install.sh"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="install.sh needs bash")

# Stands in for python3: the version checks pass, and "-m venv DIR" makes an environment whose
# pip records its arguments and whose posboxless is the one under test (no network, no build).
FAKE_PYTHON = """#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin"
    printf '#!/bin/sh\\necho "$@" >> "%s/pip.log"\\n' "$3" > "$3/bin/pip"
    printf '#!/bin/sh\\nexec "%s" -m posboxless "$@"\\n' "{python}" > "$3/bin/posboxless"
    chmod +x "$3/bin/pip" "$3/bin/posboxless"
fi
exit 0
"""


def run_script(
    tmp_path: Path, root: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    fake = tmp_path / "fake-python"
    fake.write_text(FAKE_PYTHON.format(python=sys.executable))
    fake.chmod(0o755)
    environment = {
        **os.environ,
        "PREFIX": str(tmp_path / "opt/posboxless"),
        "ROOT": str(root),
        "PYTHON": str(fake),
        **env,
    }
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        env=environment,
        stdin=subprocess.DEVNULL,  # not a terminal: nothing can be asked
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_install_sh_writes_below_prefix_and_root_and_starts_nothing(
    tmp_path: Path, fake_root: Path
) -> None:
    result = run_script(tmp_path, fake_root, "--allowed-origin", "https://shop.example.com")
    assert result.returncode == 0, result.stderr
    prefix = tmp_path / "opt/posboxless"
    assert f"install --quiet --upgrade {REPO}" in (prefix / "pip.log").read_text()
    link = fake_root / "usr/local/bin/posboxless"
    assert os.readlink(link) == str(prefix / "bin/posboxless")

    layout = Layout(fake_root)
    config = layout.config_file.read_text()
    assert 'allowed_origins = ["https://shop.example.com"]' in config
    assert layout.unit_file.exists() and layout.rules_file.exists()
    user = UserDatabase(layout).user("posboxless")
    assert user is not None
    data_dir = fake_root / "var/lib/posboxless"
    assert (data_dir.stat().st_mode & 0o777) == 0o750
    if os.geteuid() == 0:
        assert data_dir.stat().st_uid == user.uid

    out = result.stdout
    assert "nothing was started" in out
    assert (
        f"sudo -u posboxless {prefix}/bin/posboxless serve --config /etc/posboxless/config.toml "
        "--data-dir /var/lib/posboxless"
    ) in out
    assert "never as root" in out


def test_install_sh_keeps_a_foreign_command_unless_told(tmp_path: Path, fake_root: Path) -> None:
    bindir = fake_root / "usr/local/bin"
    bindir.mkdir(parents=True)
    other = bindir / "posboxless"
    other.write_text("#!/bin/sh\necho another program\n")
    result = run_script(tmp_path, fake_root)
    assert result.returncode == 0, result.stderr
    assert other.read_text() == "#!/bin/sh\necho another program\n"
    assert f"Kept {other}" in result.stdout

    result = run_script(tmp_path, fake_root, ASSUME_YES="1")
    assert result.returncode == 0, result.stderr
    assert os.readlink(other) == str(tmp_path / "opt/posboxless/bin/posboxless")

    result = run_script(tmp_path, fake_root, BINDIR="")  # no command on the PATH at all
    assert result.returncode == 0 and "Kept" not in result.stdout


def test_running_install_sh_again_upgrades_and_keeps_the_configuration(
    tmp_path: Path, fake_root: Path
) -> None:
    assert run_script(tmp_path, fake_root).returncode == 0
    config = Layout(fake_root).config_file
    config.write_text(config.read_text() + "\n# edited by the shop\n")
    result = run_script(tmp_path, fake_root)
    assert result.returncode == 0, result.stderr
    assert config.read_text().endswith("# edited by the shop\n")
    log = (tmp_path / "opt/posboxless/pip.log").read_text().splitlines()
    assert log.count(f"install --quiet --upgrade {REPO}") == 2
