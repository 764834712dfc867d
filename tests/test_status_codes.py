"""One status code per kind of mistake, on every method of every service the daemon serves.

The services are read from the running daemon's reflection and their methods from the proto
descriptors, so a service added later is swept without touching this file. An empty request is
either fine (OK) or refused as INVALID_ARGUMENT naming the field that is missing, whatever the
daemon's state; an unknown id is NOT_FOUND; a malformed one INVALID_ARGUMENT.
"""

from __future__ import annotations

import re

import grpc
import pytest
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from secondme.v1 import chat_pb2, grant_pb2, identity_pb2, jobs_pb2, memory_pb2, models_pb2

# Served beside ours by grpc itself.
NOT_OURS = ("grpc.health.", "grpc.reflection.")
# Stops the daemon: swept last, and only where the test means it.
SHUTDOWN = "/secondme.v1.DaemonService/Shutdown"
# Complete when empty (every field has a meaningful default) and about something that may not exist yet.
EMPTY_IS_A_LOOKUP = {
    "/secondme.v1.IdentityService/GetBiography": grpc.StatusCode.NOT_FOUND,  # the newest global biography
    "/secondme.v1.TrainingService/GetTrainingData": grpc.StatusCode.NOT_FOUND,  # the newest training dataset
    "/secondme.v1.TrainingService/ExportTrainingData": grpc.StatusCode.NOT_FOUND,
    # Complete when empty (train as configured); this daemon has no model to train from.
    "/secondme.v1.TrainingService/Train": grpc.StatusCode.FAILED_PRECONDITION,
}
Outcome = tuple[grpc.StatusCode, str]


def _path(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def _methods(channel: grpc.Channel) -> list[MethodDescriptor]:
    database = ProtoReflectionDescriptorDatabase(channel)
    pool = DescriptorPool(database)
    methods = [
        method
        for name in database.get_services()
        if not name.startswith(NOT_OURS)
        for method in pool.FindServiceByName(name).methods
    ]
    return sorted(methods, key=lambda m: (_path(m) == SHUTDOWN, _path(m)))


def _call_empty(channel: grpc.Channel, method: MethodDescriptor) -> Outcome:
    """Send one empty request message (every proto3 message's empty form is b'') and read one answer."""
    path, raw = _path(method), {"request_serializer": None, "response_deserializer": None}
    try:
        if method.client_streaming and method.server_streaming:
            next(iter(channel.stream_stream(path, **raw)(iter([b""]), timeout=60)), None)
        elif method.client_streaming:
            channel.stream_unary(path, **raw)(iter([b""]), timeout=60)
        elif method.server_streaming:
            next(iter(channel.unary_stream(path, **raw)(b"", timeout=60)), None)
        else:
            channel.unary_unary(path, **raw)(b"", timeout=60)
    except grpc.RpcError as exc:
        return exc.code(), exc.details() or ""  # type: ignore[attr-defined]
    return grpc.StatusCode.OK, ""


def _sweep(socket, *, shutdown: bool) -> tuple[list[MethodDescriptor], dict[str, Outcome]]:
    channel = grpc.insecure_channel(f"unix:{socket}")
    try:
        methods = [m for m in _methods(channel) if shutdown or _path(m) != SHUTDOWN]
        return methods, {_path(m): _call_empty(channel, m) for m in methods}
    finally:
        channel.close()


def _names_a_field(details: str, method: MethodDescriptor) -> bool:
    """The message names one of the request's fields as a word (`shade_id`, `paths`, `metadata.filename`)."""
    names = {f.name for f in method.input_type.fields}
    names |= {f"{f.name}.{g.name}" for f in method.input_type.fields if f.message_type for g in f.message_type.fields}
    return any(re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", details) for name in names)


def test_an_empty_request_to_any_method_is_ok_or_names_the_missing_field(start_daemon):
    daemon = start_daemon()
    methods, outcomes = _sweep(daemon.socket, shutdown=True)
    services = {m.containing_service.name for m in methods}
    assert services >= {"DaemonService", "MemoryService", "JobService", "IdentityService", "GrantService",
                        "ModelService", "ChatService", "PeerService"}  # fmt: skip
    assert any(m.server_streaming for m in methods) and any(m.client_streaming for m in methods)
    wrong = {}
    for method in methods:
        path = _path(method)
        code, details = outcomes[path]
        fine = (
            code is grpc.StatusCode.OK
            or code is EMPTY_IS_A_LOOKUP.get(path)
            or (code is grpc.StatusCode.INVALID_ARGUMENT and _names_a_field(details, method))
        )
        if not fine:
            wrong[path] = f"{code.name}: {details}"
    assert wrong == {}, "\n".join(f"{path}: {what}" for path, what in sorted(wrong.items()))
    assert outcomes[SHUTDOWN][0] is grpc.StatusCode.OK
    assert daemon.process.wait(30) == 0  # it stopped, as asked


def test_a_missing_field_is_named_before_the_state_is_looked_at(start_daemon):
    """With the mesh off, PeerService still names a missing field first; only complete requests meet the state."""
    on_methods, on = _sweep(start_daemon().socket, shutdown=False)
    _, off = _sweep(start_daemon("version = 1\n[network]\nenabled = false\n").socket, shutdown=False)
    for method in on_methods:
        path = _path(method)
        if on[path][0] is grpc.StatusCode.INVALID_ARGUMENT:
            assert off[path] == on[path], path
        elif method.containing_service.name == "PeerService":
            assert off[path][0] is grpc.StatusCode.FAILED_PRECONDITION and "mesh is off" in off[path][1], path


UNKNOWN_AND_MALFORMED_IDS = [
    (lambda c: c.memory.GetMemory(memory_pb2.GetMemoryRequest(memory_id="mem_nosuch")), "NOT_FOUND"),
    (lambda c: c.memory.DeleteMemory(memory_pb2.DeleteMemoryRequest(memory_id="mem_nosuch")), "NOT_FOUND"),
    (lambda c: c.jobs.GetJob(jobs_pb2.GetJobRequest(job_id="job_nosuch")), "NOT_FOUND"),
    (lambda c: c.jobs.CancelJob(jobs_pb2.CancelJobRequest(job_id="job_nosuch")), "NOT_FOUND"),
    (lambda c: c.identity.GetShade(identity_pb2.GetShadeRequest(shade_id=4242)), "NOT_FOUND"),
    (lambda c: c.identity.MergeShades(identity_pb2.MergeShadesRequest(target_shade_id=4242)), "INVALID_ARGUMENT"),
    (lambda c: c.chat.GetConversation(chat_pb2.GetConversationRequest(conversation_id="nosuch")), "NOT_FOUND"),
    (lambda c: c.models.GetModel(models_pb2.GetModelRequest(name="nosuch")), "NOT_FOUND"),
    (lambda c: c.grants.GetGrant(grant_pb2.GetGrantRequest(id="ab" * 16)), "NOT_FOUND"),
    (lambda c: c.grants.GetGrant(grant_pb2.GetGrantRequest(id="not-hex")), "INVALID_ARGUMENT"),
    (lambda c: c.grants.ExportGrant(grant_pb2.ExportGrantRequest(id="ab" * 16)), "NOT_FOUND"),
    (lambda c: c.grants.ExportGrant(grant_pb2.ExportGrantRequest(id="xyz")), "INVALID_ARGUMENT"),
    (lambda c: c.grants.RevokeGrant(grant_pb2.RevokeGrantRequest(id="abcdef")), "NOT_FOUND"),
    (lambda c: c.grants.RevokeGrant(grant_pb2.RevokeGrantRequest(id="zz")), "INVALID_ARGUMENT"),
]


def test_an_unknown_id_is_not_found_and_a_malformed_one_is_invalid(daemon):
    for call, code in UNKNOWN_AND_MALFORMED_IDS:
        with pytest.raises(grpc.RpcError) as caught:
            call(daemon.client)
        assert caught.value.code() is getattr(grpc.StatusCode, code), caught.value.details()
