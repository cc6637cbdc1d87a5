"""Builds the one scanner service from the ``[[scanner]]`` tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from posboxless.device import ScannerService, ServiceContext
from posboxless.scanner.config import ScannerConfig
from posboxless.scanner.discovery import Enumerator, InputDeviceInfo
from posboxless.scanner.evdev_source import EvdevScanner, InputDeviceLike, open_input_device
from posboxless.scanner.keyboard import BarcodeDecoder, Suffix
from posboxless.scanner.keymaps import Keymap, UnknownLayout, load_keymap
from posboxless.scanner.serial_lines import LineSplitter
from posboxless.scanner.serial_source import SerialScanner
from posboxless.scanner.service import BarcodeScannerService, Injector
from posboxless.scanner.source import OnBarcode, ScannerSource
from posboxless.settings import ConfigError

if TYPE_CHECKING:
    from posboxless.scanner.simulator import FakeInputDevice

AUTODETECT_DEFAULTS = ScannerConfig(name="auto", autodetect=True, grab="while-polled")
"""Used when no ``[[scanner]]`` table exists: auto-detect scanners programmed for US layout, and
take them only while a POS scans through the proxy (so a till that scans through the keyboard, in
the browser, keeps doing so)."""

SIMULATED_PATH = "simulator://keyboard-scanner"


class InputBus(Protocol):
    """Where input devices are listed and opened: evdev and /dev/input, or a simulated bus."""

    def list_paths(self) -> list[str]: ...

    def read_info(self, path: str) -> InputDeviceInfo: ...

    def open(self, path: str) -> InputDeviceLike: ...


def create_scanner(
    configs: Sequence[ScannerConfig], ctx: ServiceContext, *, input_bus: InputBus | None = None
) -> ScannerService | None:
    """``input_bus`` replaces /dev/input (tests drive the production wiring with fake devices)."""
    if ctx.simulate:
        return create_simulated_scanner(configs)
    service = BarcodeScannerService()
    for config in configs:
        if config.device is not None:
            service.add_source(
                build_source(config, service.on_barcode, service.pos_scanning, input_bus)
            )
    rules = [c for c in configs if c.is_rule and c.type == "evdev"] or (
        [AUTODETECT_DEFAULTS] if not configs else []
    )
    if rules:
        _enable_discovery(service, rules, input_bus)
    return service


def keymap_for(config: ScannerConfig) -> Keymap:
    try:
        return load_keymap(config.layout)
    except UnknownLayout as exc:
        raise ConfigError(f"scanner {config.name!r}.layout", str(exc)) from None


def decoder_for(config: ScannerConfig) -> BarcodeDecoder:
    suffix: Suffix = "enter"
    if config.suffix in ("tab", "none"):
        suffix = "tab" if config.suffix == "tab" else "none"
    return BarcodeDecoder(keymap_for(config), suffix=suffix, gap_timeout=config.gap_timeout)


def build_source(
    config: ScannerConfig,
    on_barcode: OnBarcode,
    demand: Callable[[], bool] | None = None,
    input_bus: InputBus | None = None,
) -> ScannerSource:
    """The reader of a scanner configured by path; ``demand`` says whether a POS scans through
    the proxy (grab mode 'while-polled')."""
    assert config.device is not None
    if config.type == "serial":
        return SerialScanner(
            config.device,
            LineSplitter(config.suffix),  # type: ignore[arg-type]
            on_barcode,
            label=config.name,
            settings=config.serial_settings,
        )
    return EvdevScanner(
        config.device,
        decoder_for(config),
        on_barcode,
        label=config.name,
        grab=config.grab,
        demand=demand,
        open_device=input_bus.open if input_bus else open_input_device,
    )


def _enable_discovery(
    service: BarcodeScannerService, rules: list[ScannerConfig], input_bus: InputBus | None
) -> None:
    for rule in rules:
        keymap_for(rule)  # a wrong layout stops start-up, not the first scan

    def build_discovered(info: InputDeviceInfo, config: ScannerConfig) -> ScannerSource:
        return EvdevScanner(
            info.path,
            decoder_for(config),
            service.on_barcode,
            label=info.name,
            grab=config.grab,
            demand=service.pos_scanning,
            persistent=False,
            open_device=input_bus.open if input_bus else open_input_device,
        )

    if input_bus is None:
        enumerator = Enumerator(rules)
    else:
        enumerator = Enumerator(
            rules,
            list_paths=input_bus.list_paths,
            read_info=input_bus.read_info,
            udev_interfaces=lambda _path: None,
        )
    service.enable_discovery(enumerator, build_discovered)


class _TypingInjector(Injector):
    def __init__(self, device: FakeInputDevice) -> None:
        self.device = device

    def inject(self, code: str) -> bool:
        if not self.device.can_type(code):
            return False
        self.device.type_text(code)
        return True


def create_simulated_scanner(configs: Sequence[ScannerConfig]) -> BarcodeScannerService:
    """The real service reading a simulated keyboard scanner: injected codes are typed as key
    events and decoded by the real decoder with the configured layout."""
    from posboxless.scanner.simulator import FakeInputBus, FakeInputDevice

    config = next((c for c in configs if c.type == "evdev"), AUTODETECT_DEFAULTS)
    keymap = keymap_for(config)
    device = FakeInputDevice(SIMULATED_PATH, "Simulated barcode scanner", keymap=keymap)
    bus = FakeInputBus(device)
    service = BarcodeScannerService(injector=_TypingInjector(device))
    service.add_source(
        EvdevScanner(
            SIMULATED_PATH,
            BarcodeDecoder(keymap),
            service.on_barcode,
            label="simulator",
            open_device=bus.open,
        )
    )
    return service
