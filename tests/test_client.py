"""The typed client's conversions: every enum round-trips by its short name, messages become dataclasses."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from datetime import UTC, datetime

import pytest

import secondme.daemon.client as client_package
import secondme.v1 as v1
from secondme.daemon.client.convert import enum_name, enum_number, from_message, jsonable, timestamp
from secondme.daemon.client.jobs import Job
from secondme.errors import InvalidArgument
from secondme.v1 import jobs_pb2


def _enums():
    for info in pkgutil.iter_modules(v1.__path__):
        if info.name.endswith("_pb2"):
            yield from importlib.import_module(f"secondme.v1.{info.name}").DESCRIPTOR.enum_types_by_name.values()


def test_every_enum_value_round_trips_through_its_short_name():
    enums = list(_enums())
    assert len(enums) > 10
    for enum in enums:
        for value in enum.values:
            name = enum_name(enum, value.number)
            assert (name == "") == (value.number == 0), value.name
            assert enum_number(enum, name, "field") == value.number
    with pytest.raises(InvalidArgument, match="state: unknown value 'sleeping'; choose from queued"):
        enum_number(jobs_pb2.JobState.DESCRIPTOR, "sleeping", "state")


def test_a_message_becomes_its_dataclass_with_times_enums_and_absent_parts():
    started = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    message = jobs_pb2.Job(
        id="job_1", kind="ingest", state=jobs_pb2.JOB_STATE_SUCCEEDED, started_at=timestamp(started),
        result_json='{"ingested": 3}',
    )  # fmt: skip
    job = from_message(Job, message)
    assert (job.state, job.started_at, job.created_at, job.progress) == ("succeeded", started, None, None)
    assert job.succeeded and job.finished and job.result == {"ingested": 3}
    assert jsonable(job)["started_at"] == "2026-03-01T12:30:00+00:00"
    assert jsonable(job)["result"] == {"ingested": 3} and "params" not in jsonable(job)  # JSON text given decoded


def test_every_client_dataclass_names_only_fields_its_messages_have():
    """A renamed or removed proto field fails here, not in a program at run time."""
    messages = {
        m.name: m
        for info in pkgutil.iter_modules(v1.__path__)
        if info.name.endswith("_pb2")
        for m in importlib.import_module(f"secondme.v1.{info.name}").DESCRIPTOR.message_types_by_name.values()
    }
    checked = 0
    for info in pkgutil.iter_modules(client_package.__path__):
        module = importlib.import_module(f"secondme.daemon.client.{info.name}")
        for name, cls in inspect.getmembers(module, dataclasses.is_dataclass):
            if cls.__module__ != module.__name__ or name not in messages:
                continue
            fields = {f.name for f in dataclasses.fields(cls)}
            assert fields <= set(messages[name].fields_by_name), (
                f"{name}: {fields - set(messages[name].fields_by_name)}"
            )
            checked += 1
    assert checked >= 20
