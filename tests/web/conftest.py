from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from posboxless.app import create_app
from posboxless.config import Config, ServerConfig
from posboxless.services import Services

from .fakes import FakePrinter, FakeScale, FakeScanner


@pytest.fixture
def services() -> Services:
    printer = FakePrinter()
    return Services(
        printers={"receipt": printer},
        default_printer_name="receipt",
        scale=FakeScale(),  # type: ignore[arg-type]
        scanner=FakeScanner(),  # type: ignore[arg-type]
    )


@pytest.fixture
def make_client(tmp_path: Path, services: Services) -> Callable[..., httpx.AsyncClient]:
    def make(
        allowed_origins: tuple[str, ...] = (),
        base_url: str = "http://localhost:8069",
        services_: Services | None = None,
        **server: object,
    ) -> httpx.AsyncClient:
        config = Config(
            server=ServerConfig(data_dir=tmp_path, allowed_origins=allowed_origins, **server)  # type: ignore[arg-type]
        )
        app = create_app(config, services_ or services)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        return httpx.AsyncClient(transport=transport, base_url=base_url)

    return make


@pytest.fixture
async def client(make_client: Callable[..., httpx.AsyncClient]) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as c:
        yield c
