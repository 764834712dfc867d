"""One exception root: every failure of ours is a `SecondmeError` of one kind, mapped once to a code."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil

import grpc
import pytest

from secondme.daemon.api.errors import STATUS_FOR_KIND, grpc_errors
from secondme.daemon.cli.output import EXIT_FOR_KIND
from secondme.daemon.client import DaemonUnavailable, error_from_rpc
from secondme.errors import Kind, NotFound, SecondmeError
from secondme.network.errors import RemoteRefused
from secondme.pipeline.errors import ContentTooLarge, GenerationError

PACKAGES = ["secondme.errors", "secondme.daemon", "secondme.network", "secondme.permissions", "secondme.pipeline"]


def _our_exception_classes() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in PACKAGES:
        package = importlib.import_module(name)
        modules = [package]
        for info in pkgutil.walk_packages(getattr(package, "__path__", []), prefix=f"{name}."):
            modules.append(importlib.import_module(info.name))
        for module in modules:
            for _, value in inspect.getmembers(module, inspect.isclass):
                if issubclass(value, BaseException) and value.__module__ == module.__name__:
                    found[f"{value.__module__}.{value.__qualname__}"] = value
    return list(found.values())


def test_every_exception_of_ours_is_a_secondme_error_of_exactly_one_lineage() -> None:
    classes = _our_exception_classes()
    assert len(classes) > 30  # the walk really found the layers' errors
    strays = [c for c in classes if not issubclass(c, SecondmeError) and not c.__name__.startswith("_")]
    assert strays == [], "raise a SecondmeError subclass of the right kind, never a built-in one to mean ours"
    for cls in classes:
        ours = [base for base in cls.__bases__ if issubclass(base, SecondmeError)]
        assert len(ours) <= 1, f"{cls.__qualname__} inherits a kind from two places: {ours}"
        builtins = [b for b in cls.__bases__ if not issubclass(b, SecondmeError) and b.__module__ == "builtins"]
        assert not ours or not builtins, f"{cls.__qualname__} is also a {builtins}: callers would catch it as that"


def test_every_kind_has_one_status_and_one_exit_code() -> None:
    assert set(STATUS_FOR_KIND) == set(Kind) == set(EXIT_FOR_KIND)
    assert len(set(STATUS_FOR_KIND.values())) == len(Kind)  # the client maps a status back to one kind


class _Raiser:
    def __init__(self, errors: dict[str, BaseException]) -> None:
        self.errors = errors

    @grpc_errors
    async def Fail(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        raise self.errors[request.decode()]


def test_a_failure_crosses_grpc_as_its_kind_and_comes_back_as_the_same_kind(tmp_path) -> None:
    errors: dict[str, BaseException] = {
        "too large": ContentTooLarge("the file is 2 GB; ingest.max_file_bytes is 1 GB"),
        "no model": GenerationError("the model endpoint does not answer"),
        "refused": RemoteRefused("no_grant", "no grant presented"),
        "missing": NotFound("no memory 'm1'"),
        "bug": KeyError("oops"),
    }
    raiser = _Raiser(errors)
    socket = tmp_path / "s.sock"

    async def main() -> dict[str, grpc.RpcError]:
        server = grpc.aio.server()
        handler = grpc.unary_unary_rpc_method_handler(raiser.Fail.__get__(raiser))
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("t.T", {"Fail": handler}),))
        server.add_insecure_port(f"unix:{socket}")
        await server.start()
        caught: dict[str, grpc.RpcError] = {}
        try:
            async with grpc.aio.insecure_channel(f"unix:{socket}") as channel:
                call = channel.unary_unary("/t.T/Fail")
                for name in errors:
                    with pytest.raises(grpc.aio.AioRpcError) as raised:
                        await call(name.encode())
                    caught[name] = raised.value
        finally:
            await server.stop(None)
        return caught

    caught = asyncio.run(main())
    for name, sent in errors.items():
        back = error_from_rpc(caught[name])
        if isinstance(sent, SecondmeError):
            assert caught[name].code() == STATUS_FOR_KIND[sent.kind]
            assert type(back).kind is sent.kind and back.message == sent.message
            assert not isinstance(back, DaemonUnavailable)
    assert caught["bug"].code() == grpc.StatusCode.INTERNAL and "oops" not in caught["bug"].details()
    assert "daemon log" in error_from_rpc(caught["bug"]).message
