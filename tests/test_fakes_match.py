"""The test fakes cannot drift from the real services: every fake has every method of its
interface with the same parameters (names, kinds, defaults), and so does the real service."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from posboxless.device import PrinterService, ScaleService, ScannerService
from posboxless.printer.service import EscPosPrinterService
from posboxless.scale.service import SerialScaleService
from posboxless.scanner.service import BarcodeScannerService
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
