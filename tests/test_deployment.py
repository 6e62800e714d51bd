"""prefect.yaml declares deployments whose entrypoints and parameters fit the flows."""

from __future__ import annotations

import importlib
import inspect

import yaml

from pipelines import ROOT


def test_deployments_point_at_flows_with_matching_parameters():
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    assert spec["deployments"], "no deployments declared"
    for deployment in spec["deployments"]:
        path, name = deployment["entrypoint"].split(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        flow = getattr(module, name)
        accepted = set(inspect.signature(flow.fn).parameters)
        assert set(deployment["parameters"]) <= accepted, deployment["name"]
        required = {p for p, v in inspect.signature(flow.fn).parameters.items()
                    if v.default is inspect.Parameter.empty}
        assert required <= set(deployment["parameters"]), deployment["name"]
        assert deployment["work_pool"]["name"] == "familyscreen"
        assert deployment["schedules"][0]["cron"]
