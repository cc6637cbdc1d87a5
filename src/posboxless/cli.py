"""Command line: ``posboxless serve | export-ca | check-config | install | uninstall | doctor |
support-bundle | remote-help``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from posboxless import __version__, datadir, logs
from posboxless.config import DEFAULT_CONFIG_PATH, Config, load_config, with_overrides
from posboxless.scanner.config import describe_grab
from posboxless.settings import ConfigError

log = logging.getLogger("posboxless")

_DESCRIPTION = """\
posboxless: the hardware bridge of the Odoo Point of Sale. It answers the POS as its "IoT Box"
(/hw_proxy/...) and as an Epson ePOS printer, and drives the receipt printers and cash drawer,
the scale, barcode scanners, card payment terminals and the customer display."""


def _config_argument(parser: argparse.ArgumentParser, *, running: bool = False) -> None:
    default = f"{DEFAULT_CONFIG_PATH} when it exists, else built-in defaults"
    if running:  # doctor, check-config, support-bundle look at the proxy that runs
        default = "the one of the running proxy or of the installed service, else " + default
    parser.add_argument(
        "--config", type=Path, metavar="PATH", help=f"TOML configuration file (default: {default})"
    )


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("a port is a number from 0 to 65535")
    return port


def _add_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="run the proxy",
        description="Run the proxy: HTTP (and HTTPS) for the POS, device workers, status page. "
        "With no device configured, or with --simulate, simulated devices are used.",
    )
    _config_argument(p)
    p.add_argument("--host", help="address to listen on (default 127.0.0.1: this computer only)")
    p.add_argument("--http-port", type=_port, help="HTTP port (default 8069)")
    p.add_argument("--https-port", type=_port, help="HTTPS port (default 443; 0 turns HTTPS off)")
    p.add_argument("--data-dir", type=Path, help="where jobs, certificates and simulator output go")
    p.add_argument(
        "--simulate",
        action="store_true",
        default=None,
        help="use simulated printer, scale, scanner, payment terminal and customer pole display "
        "instead of the configured devices",
    )
    p.add_argument(
        "--allowed-origin",
        action="append",
        metavar="URL",
        help="Odoo URL allowed to use the devices (repeatable; replaces the configured list)",
    )
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=_serve)


def _add_export_ca(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export-ca",
        help="export the local CA certificate to import into browsers",
        description="Write the certificate authority that signs this proxy's HTTPS certificate "
        "(PEM) and print its SHA-256 fingerprint. Import it into the cashier's browser as a "
        "trusted authority so that a POS served over https can reach the proxy. The CA is "
        "created if it does not exist yet; it is name-constrained (it can only vouch for this "
        "till's names and local addresses) and valid two years. When it had to be replaced (an "
        "older unconstrained CA, expiry, a new name of the till), this says so: import the new "
        "one into every browser again.",
    )
    _config_argument(p)
    p.add_argument("--data-dir", type=Path, help="data directory of the proxy")
    p.add_argument(
        "--output", "-o", type=Path, help="file to write (default: print the PEM on stdout)"
    )
    p.set_defaults(func=_export_ca)


def _add_check_config(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check-config",
        help="validate the configuration file",
        description="Read the configuration (--config, else the one of the running proxy or "
        "installed service, else /etc/posboxless/config.toml), report the first error naming "
        "the key, or summarise what would be used, then check what a valid file can still get "
        "wrong: device paths that do not exist (warning: devices may be plugged in later), two "
        "devices on one port (error). Exit status: 0 valid, 1 errors found, 2 not valid TOML, "
        "a wrong key or value, or unreadable.",
    )
    _config_argument(p, running=True)
    p.set_defaults(func=_check_config)


def _add_ops(sub: argparse._SubParsersAction) -> None:
    from posboxless.ops import bundle, doctor, install

    p = sub.add_parser(
        "install",
        help="install as a hardened systemd service (user, unit, udev rules, configuration)",
        description="Install posboxless as a system service: a system user in the dialout, lp "
        "and input groups, a hardened systemd unit, udev rules for common POS devices and a "
        "commented configuration file; with --browser-policies also the Chromium/Chrome and "
        "Firefox managed policies (local CA, Local Network Access for the allowed origins). "
        "Idempotent; uninstall removes it all.",
    )
    install.add_install_arguments(p)
    p.set_defaults(func=install.run_install)

    p = sub.add_parser(
        "uninstall",
        help="remove the service, unit and udev rules",
        description="Stop and remove the service, its unit and udev rules. The configuration "
        "and data are kept unless --purge is given.",
    )
    install.add_uninstall_arguments(p)
    p.set_defaults(func=install.run_uninstall)

    p = sub.add_parser(
        "doctor",
        help="check this machine and say what to fix",
        description="Check permissions and groups, the device of every printer, scale, scanner "
        "and payment terminal, two devices on one port, ModemManager, ports, the certificate and "
        "the configuration, and what the running proxy reports about its devices. Without "
        "--config, the configuration and data directory of the proxy that runs are checked (the "
        "installed unit's, or the ones it reports on its port). Prints what to do for each "
        "problem; exits non-zero when something is wrong.",
    )
    _config_argument(p, running=True)
    doctor.add_arguments(p)
    p.set_defaults(func=doctor.run)

    p = sub.add_parser(
        "support-bundle",
        help="collect configuration (redacted), logs, status and versions into one archive",
        description="Write one .tar.gz archive for remote support: configuration with secrets "
        "redacted, recent logs (the running proxy's own, read over its loopback API, and the "
        "journal), live status and full diagnostics (devices, queues, weight, warnings, clients), "
        "print journal summary, doctor results and versions. It looks at the proxy that runs, "
        "with its configuration and data directory.",
    )
    _config_argument(p, running=True)
    bundle.add_arguments(p)
    p.set_defaults(func=bundle.run)

    from posboxless.ops.monitoring import remote_help

    p = sub.add_parser(
        "remote-help",
        help="push the read-only diagnostics and support bundle to the IT partner (HTTPS PUT)",
        description="Collect the diagnostics the page shows and the support bundle (secrets "
        "redacted) and PUT them over HTTPS with basic auth to <url>/<shop>/<till>/. Nothing "
        "listens on the till for it, so the partner can read but never print or open the "
        "drawer. Run every 5 minutes by posboxless-remote-help.timer when installed with "
        "`posboxless install --remote-help-url`.",
    )
    _config_argument(p)
    remote_help.add_arguments(p)
    p.set_defaults(func=remote_help.run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="posboxless", description=_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"posboxless {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_serve(sub)
    _add_export_ca(sub)
    _add_check_config(sub)
    _add_ops(sub)
    return parser


def _load(args: argparse.Namespace, **overrides: object) -> Config:
    return with_overrides(load_config(args.config), **overrides)


def _serve(args: argparse.Namespace) -> int:
    from posboxless.app import StartupError, serve
    from posboxless.services import build_services

    origins = None
    if args.allowed_origin:
        from posboxless.config import _origin
        from posboxless.settings import Table

        table = Table({}, "--allowed-origin")
        origins = tuple(_origin(table, o) for o in args.allowed_origin)
    config = _load(
        args,
        host=args.host,
        http_port=args.http_port,
        https_port=args.https_port,
        data_dir=args.data_dir,
        simulate=args.simulate,
        allowed_origins=origins,
        log_level=args.log_level,
    )
    logs.setup(config.server.log_level)
    log.info(
        "posboxless %s starting (configuration: %s)",
        __version__,
        config.source or "built-in defaults",
    )
    try:
        datadir.make_private(config.server.data_dir)
    except OSError as exc:
        log.error("cannot create the data directory %s: %s", config.server.data_dir, exc)
        return 1
    services = build_services(config)
    try:
        asyncio.run(serve(config, services))
    except StartupError as exc:
        log.error("cannot start: %s", exc)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def _export_ca(args: argparse.Namespace) -> int:
    from posboxless import tls

    config = _load(args, data_dir=args.data_dir)
    try:
        files = tls.ensure_for_config(config)
    except PermissionError as exc:
        print(
            f"posboxless: cannot read or create certificates in {config.server.data_dir}/tls: "
            f"{exc.strerror}. Run as the service user or with sudo, or give --data-dir.",
            file=sys.stderr,
        )
        return 1
    assert files.ca is not None
    notice = tls.replaced_notice(config.server.data_dir)
    if notice:
        print(f"posboxless: {notice}", file=sys.stderr)
    pem = files.ca.read_text()
    if args.output:
        args.output.write_text(pem)
        print(f"CA certificate written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(pem)
    print(f"SHA-256 fingerprint: {tls.fingerprint(files.ca)}", file=sys.stderr)
    # Exported: the page stops asking for it (the CA's date in its name tells old from new).
    tls.clear_replaced_notice(config.server.data_dir)
    return 0


def _check_config(args: argparse.Namespace) -> int:
    from posboxless.ops.checks import Probe, check_semantics, resolve
    from posboxless.ops.doctor import format_result

    probe = Probe()
    # Without --config: the file of the proxy that runs (its unit's, or the one it reports).
    target = resolve(args.config, probe, ask_proxy=args.config is None)
    config = target.config
    if config is None:
        print(f"posboxless: configuration error: {target.verdict.message}", file=sys.stderr)
        return 2
    print(f"configuration: {target.path or 'built-in defaults'}")
    s = config.server
    print(f"listen: {s.host} http {s.http_port} https {s.https_port or 'off'}")
    if s.lna_address:
        print(f"Local Network Access address: {s.lna_address} http {s.http_port} (POS API only)")
    print(f"data directory: {target.data_dir}")
    print(f"allowed origins: {', '.join(s.allowed_origins) or 'ANY (warning)'}")
    print(f"printers: {', '.join(p.name for p in config.printers) or 'none'}")
    scale = config.scale
    print(
        f"scale: {('read by the browser' if scale.browser_owned else 'yes') if scale else 'none'}"
    )
    print(f"scanners: {', '.join(sc.name for sc in config.scanners) or 'none'}")
    print(f"payment terminals: {', '.join(t.name for t in config.terminals) or 'none'}")
    pole = config.customer_display
    where = (pole.port or f"display port of printer '{pole.printer}'") if pole else "none"
    print(f"customer pole display: {where}")
    for line in describe_grab(config.scanners):
        print(line)
    print(f"simulated devices: {'yes' if config.simulate else 'no'}")
    results = [*target.notes, *check_semantics(config, probe)]
    for result in results:
        print(format_result(result))
    errors = sum(r.level == "fail" for r in results)
    if errors:
        print(f"{errors} error(s): the proxy would not work as configured.")
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"posboxless: configuration error: {exc}", file=sys.stderr)
        return 2
