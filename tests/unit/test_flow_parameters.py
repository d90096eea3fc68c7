"""Every scheduled job's flow encodes its plain parameters without FastAPI, exactly as Prefect's
own serializer does (issue 14: an idle run no longer imports FastAPI)."""

from __future__ import annotations

import inspect
from datetime import date, datetime, timedelta, timezone

import pytest
from prefect.flows import Flow

from flows.deployments import SCHEDULED, load_flow
from flows.parameters import plain_parameters

SAMPLES = {
    date: date(2026, 11, 27),
    datetime: datetime(2026, 11, 27, 9, 5, 1, 250, tzinfo=timezone(timedelta(hours=1))),
    bool: True,
    int: 120,
    str: "2026-10",
}


def _sample(parameter: inspect.Parameter):
    for kind, value in SAMPLES.items():
        if kind.__name__ in str(parameter.annotation):
            return value
    return parameter.default


@pytest.mark.parametrize("spec", SCHEDULED, ids=lambda s: s.name)
def test_scheduled_flows_encode_plain_parameters_as_prefect_does(spec):
    flow, _ = load_flow(spec)
    signature = inspect.signature(flow.fn)
    defaults = {name: p.default for name, p in signature.parameters.items()} | dict(spec.parameters)
    samples = {name: _sample(p) for name, p in signature.parameters.items()}
    for parameters in (defaults, samples):
        assert getattr(flow.serialize_parameters, "plain", False)
        assert flow.serialize_parameters(parameters) == Flow.serialize_parameters(flow, parameters)


def test_anything_not_plain_goes_to_prefects_serializer():
    class FakeFlow:
        def serialize_parameters(self, parameters):
            return "prefect's own"

    flow = plain_parameters(FakeFlow())
    assert plain_parameters(flow) is flow  # once is enough
    assert flow.serialize_parameters({"a": {"b": 1}}) == "prefect's own"
    assert flow.serialize_parameters({"a": [1, "x", None]}) == {"a": [1, "x", None]}
    assert flow.serialize_parameters({"a": timedelta(1)}) == "prefect's own"
