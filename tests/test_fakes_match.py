"""The test fakes cannot drift from the real services: every fake has every method of its
interface with the same parameters (names, kinds, defaults), and so does the real service; the
snapshots they return are the frozen types the interface declares; the optional capabilities the
readers check with ``isinstance`` have the declared shape wherever they are offered."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from pathlib import Path
from typing import Any

import pytest

from posboxless.device import (
    DeviceService,
    HasPrinterProfile,
    InjectsBarcodes,
    KeepsJournal,
    PrinterService,
    PrintsAddresses,
    PrintsTestPage,
    Reprints,
    ScaleService,
    ScannerService,
)
from posboxless.display.service import DisplayService
from posboxless.linedisplay.printer_port import PrinterPortDisplay
from posboxless.linedisplay.service import PoleDisplayService
from posboxless.printer.config import PrinterConfig
from posboxless.printer.service import EscPosPrinterService
from posboxless.scale.browser_owned import BrowserOwnedScale
from posboxless.scale.discovery import PortLocator
from posboxless.scale.service import SerialScaleService
from posboxless.scanner.service import BarcodeScannerService
from posboxless.terminal.service import TeliumTerminalService
from posboxless.transports.serial_port import SerialSettings
from posboxless.transports.tcp import TcpTransport
from tests.web.fakes import FakePrinter, FakeScale, FakeScanner

CASES = [
    (PrinterService, EscPosPrinterService, FakePrinter),
    (ScaleService, SerialScaleService, FakeScale),
    (ScannerService, BarcodeScannerService, FakeScanner),
]


def _methods(cls: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


def _shape(function: Any) -> list[tuple[str, Any, Any]]:
    """Parameters without annotations: a fake may spell a type differently, never a name."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def _interface(protocol: type) -> dict[str, Any]:
    members = {}
    for klass in reversed(protocol.__mro__):
        if klass is object or not getattr(klass, "_is_protocol", False):
            continue
        members.update(
            {
                n: m
                for n, m in vars(klass).items()
                if inspect.isfunction(m) and not n.startswith("_")
            }
        )
    return members


@pytest.mark.parametrize(("protocol", "real", "fake"), CASES, ids=lambda c: c.__name__)
def test_fake_and_real_service_have_the_interface(protocol: type, real: type, fake: type) -> None:
    interface = _interface(protocol)
    assert interface, "the interface has methods"
    for cls in (real, fake):
        methods = _methods(cls)
        for name, declared in interface.items():
            assert name in methods, f"{cls.__name__} lacks {name}"
            assert _shape(methods[name]) == _shape(declared), f"{cls.__name__}.{name}"
            assert inspect.iscoroutinefunction(methods[name]) == inspect.iscoroutinefunction(
                declared
            ), f"{cls.__name__}.{name}: async or not as the interface says"


@pytest.mark.parametrize(("protocol", "real", "fake"), CASES, ids=lambda c: c.__name__)
def test_fake_extras_exist_on_the_real_service(protocol: type, real: type, fake: type) -> None:
    """What a fake offers beyond the interface (the web layer uses it: ``recent``,
    ``give_back``...) exists on the real service with the same parameters."""
    real_methods = _methods(real)
    for name, method in _methods(fake).items():
        assert name in real_methods, f"{fake.__name__}.{name} is not on {real.__name__}"
        assert _shape(method) == _shape(real_methods[name]), f"{fake.__name__}.{name}"


REAL_SERVICES = [
    EscPosPrinterService,
    SerialScaleService,
    BrowserOwnedScale,
    BarcodeScannerService,
    TeliumTerminalService,
    PoleDisplayService,
    PrinterPortDisplay,
    DisplayService,
]
CAPABILITIES = [PrintsTestPage, Reprints, KeepsJournal, InjectsBarcodes]


def _returns(function: Any) -> Any:
    return typing.get_type_hints(function)["return"]


@pytest.mark.parametrize("real", REAL_SERVICES, ids=lambda c: c.__name__)
def test_every_service_has_a_typed_frozen_snapshot(real: type) -> None:
    """``snapshot()`` returns a frozen dataclass with what every reader needs, and the JSON
    ``details()`` sits beside it (built from it)."""
    snapshot_type = _returns(real.snapshot)
    assert dataclasses.is_dataclass(snapshot_type), snapshot_type
    assert snapshot_type.__dataclass_params__.frozen, f"{snapshot_type.__name__} is frozen"
    fields = {f.name for f in dataclasses.fields(snapshot_type)}
    assert {"name", "status", "activity"} <= fields, snapshot_type.__name__
    assert _shape(real.snapshot) == _shape(DeviceService.snapshot)
    assert _shape(real.details) == _shape(DeviceService.details)


@pytest.mark.parametrize(("protocol", "real", "fake"), CASES, ids=lambda c: c.__name__)
def test_fake_snapshots_are_the_declared_type(protocol: type, real: type, fake: type) -> None:
    declared = _returns(protocol.snapshot)
    assert _returns(real.snapshot) is declared
    assert isinstance(fake().snapshot(), declared)


def _attributes(protocol: type) -> dict[str, Any]:
    names: dict[str, Any] = {}
    for klass in reversed(protocol.__mro__):
        if getattr(klass, "_is_protocol", False):
            names.update(typing.get_type_hints(klass))
    return names


def _real_instances(tmp_path: Path) -> dict[type, Any]:
    printer = PrinterConfig(name="receipt", host=("127.0.0.1", 9))
    return {
        EscPosPrinterService: EscPosPrinterService(printer, TcpTransport("127.0.0.1", 9), tmp_path),
        SerialScaleService: SerialScaleService(
            locator=PortLocator(port="/dev/null"), settings=SerialSettings()
        ),
        BarcodeScannerService: BarcodeScannerService(),
    }


@pytest.mark.parametrize(("protocol", "real", "fake"), CASES, ids=lambda c: c.__name__)
def test_declared_attributes_exist(protocol: type, real: type, fake: type, tmp_path: Path) -> None:
    """Attributes of an interface (``simulator``...) are on the real service and its fake, so
    that readers use them without probing."""
    instance = _real_instances(tmp_path)[real]
    for name in _attributes(protocol):
        assert hasattr(instance, name), f"{real.__name__} lacks {name}"
        assert hasattr(fake(), name), f"{fake.__name__} lacks {name}"
    assert isinstance(instance, protocol) and isinstance(fake(), protocol)


@pytest.mark.parametrize("cls", [*REAL_SERVICES, FakePrinter, FakeScale, FakeScanner],
                         ids=lambda c: c.__name__)  # fmt: skip
def test_offered_capabilities_have_the_declared_shape(cls: type) -> None:
    methods = _methods(cls)
    for capability in CAPABILITIES:
        for name, declared in _interface(capability).items():
            if name in methods:
                assert _shape(methods[name]) == _shape(declared), f"{cls.__name__}.{name}"
                assert inspect.iscoroutinefunction(methods[name]) == inspect.iscoroutinefunction(
                    declared
                ), f"{cls.__name__}.{name}"


def test_the_real_services_offer_the_page_s_capabilities(tmp_path: Path) -> None:
    """What the page and the start-up ticket use is there on the real services (a rename would
    silently turn a page button into "cannot")."""
    services = _real_instances(tmp_path)
    printer, scanner = services[EscPosPrinterService], services[BarcodeScannerService]
    for capability in (PrintsTestPage, Reprints, KeepsJournal, PrintsAddresses, HasPrinterProfile):
        assert isinstance(printer, capability), capability.__name__
    assert isinstance(scanner, InjectsBarcodes)
    assert not isinstance(FakeScanner(), InjectsBarcodes)
