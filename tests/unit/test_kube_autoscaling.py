"""The static autoscaling checks (mcproof.kube.autoscaling): a table of broken HPAs and PDBs -> findings."""

from __future__ import annotations

from typing import Any

import pytest

from mcproof.config import KubernetesSettings
from mcproof.kube.autoscaling import (
    hpa_findings,
    metric_api_findings,
    metric_groups_needed,
    pdb_findings,
)

LABELS = {"app.kubernetes.io/name": "minecraft", "app.kubernetes.io/instance": "proxy"}


def _workload(requests: dict[str, str] | None = None, *, containers: int = 1) -> dict[str, Any]:
    res = {"requests": requests} if requests is not None else {}
    return {
        "metadata": {"namespace": "t1", "name": "proxy", "labels": dict(LABELS)},
        "spec": {
            "replicas": 2,
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {"containers": [{"name": f"c{i}", "resources": res} for i in range(containers)]},
            },
        },
    }


def _hpa(name: str = "proxy", target: str = "proxy", kind: str = "Deployment", **spec: Any) -> dict[str, Any]:
    body = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": target}, "minReplicas": 2}
    body["maxReplicas"] = 6
    body.update(spec)
    return {"metadata": {"namespace": "t1", "name": name}, "spec": body}


def _cpu(kind: str = "Resource", resource: str = "cpu", container: str | None = None) -> dict[str, Any]:
    key = "resource" if kind == "Resource" else "containerResource"
    src: dict[str, Any] = {"name": resource, "target": {"type": "Utilization", "averageUtilization": 70}}
    if container:
        src["container"] = container
    return {"type": kind, key: src}


CPU = {"cpu": "100m", "memory": "256Mi"}

HPA_CASES = [
    ("sane", _workload(CPU), [_hpa()], []),
    ("no hpa", _workload(CPU), [], ["no HorizontalPodAutoscaler targets it"]),
    ("hpa for another", _workload(CPU), [_hpa(target="lobby")], ["no HorizontalPodAutoscaler targets it"]),
    ("hpa wrong kind", _workload(CPU), [_hpa(kind="StatefulSet")], ["no HorizontalPodAutoscaler targets it"]),
    ("two hpas", _workload(CPU), [_hpa(), _hpa(name="b")], ["2 HPAs target it"]),
    ("min > max", _workload(CPU), [_hpa(minReplicas=5, maxReplicas=3)], ["maxReplicas 3 < minReplicas 5"]),
    ("min 0", _workload(CPU), [_hpa(minReplicas=0)], ["minReplicas 0 < 1"]),
    ("min default 1", _workload(CPU), [_hpa(minReplicas=1)], []),
    ("above ceiling", _workload(CPU), [_hpa(maxReplicas=500)], ["maxReplicas 500 > the ceiling 50"]),
    ("cpu without request", _workload({"memory": "1Gi"}), [_hpa()], ["needs a cpu request on every container"]),
    ("no requests at all", _workload(None), [_hpa(metrics=[_cpu()])], ["missing on c0"]),
    ("memory metric", _workload(CPU), [_hpa(metrics=[_cpu(resource="memory")])], []),
    (
        "second container lacks cpu",
        {
            **_workload(CPU),
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "a", "resources": {"requests": CPU}},
                            {"name": "sidecar", "resources": {}},
                        ]
                    }
                }
            },
        },
        [_hpa()],
        ["missing on sidecar"],
    ),
    ("container metric ok", _workload(CPU), [_hpa(metrics=[_cpu("ContainerResource", container="c0")])], []),
    (
        "container metric unknown container",
        _workload(CPU),
        [_hpa(metrics=[_cpu("ContainerResource", container="nope")])],
        ["names container 'nope'"],
    ),
    ("bogus metric type", _workload(CPU), [_hpa(metrics=[{"type": "Magic"}])], ["not an autoscaling/v2 metric type"]),
    ("pods metric needs no request", _workload(None), [_hpa(metrics=[{"type": "Pods", "pods": {}}])], []),
]


@pytest.mark.parametrize(("case", "workload", "hpas", "expected"), HPA_CASES, ids=[c[0] for c in HPA_CASES])
def test_hpa_findings_table(case: str, workload: dict[str, Any], hpas: list[Any], expected: list[str]) -> None:
    found = hpa_findings("Deployment", workload, hpas, ceiling=50)
    assert len(found) == len(expected), found
    for (obj, reason), want in zip(found, expected, strict=True):
        assert obj == "t1/deployment/proxy"
        assert want in reason
        assert "fix" in reason or "kubernetes.autoscaling" in reason or "keep one" in reason


def test_platform_scaled_workloads_need_no_hpa() -> None:
    sts = _workload(None)
    assert hpa_findings("StatefulSet", sts, [], ceiling=50, platform=["*/statefulset/*"]) == []
    assert hpa_findings("StatefulSet", sts, [], ceiling=50, platform=["app.kubernetes.io/instance=proxy"]) == []
    assert hpa_findings("StatefulSet", sts, [], ceiling=50, platform=["t2/statefulset/*"])  # other namespace


def _pdb(name: str = "proxy", selector: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    sel = selector if selector is not None else {"matchLabels": {"app.kubernetes.io/instance": "proxy"}}
    return {"metadata": {"namespace": "t1", "name": name}, "spec": {"selector": sel, **spec}}


PDB_CASES = [
    ("maxUnavailable 1", [_pdb(maxUnavailable=1)], 2, []),
    ("minAvailable 1", [_pdb(minAvailable=1)], 2, []),
    ("minAvailable 50%", [_pdb(minAvailable="50%")], 4, []),
    ("none", [], 2, ["no PodDisruptionBudget selects its pods"]),
    (
        "other namespace",
        [{**_pdb(maxUnavailable=1), "metadata": {"namespace": "t2", "name": "x"}}],
        2,
        ["no PodDisruptionBudget"],
    ),
    (
        "selects other pods",
        [_pdb(selector={"matchLabels": {"app": "other"}}, maxUnavailable=1)],
        2,
        ["no PodDisruptionBudget"],
    ),
    ("two pdbs", [_pdb(maxUnavailable=1), _pdb(name="b", maxUnavailable=1)], 2, ["2 PDBs select its pods"]),
    ("minAvailable = replicas", [_pdb(minAvailable=2)], 2, ["allows no disruption at 2"]),
    ("minAvailable 100%", [_pdb(minAvailable="100%")], 3, ["allows no disruption"]),
    ("maxUnavailable 0", [_pdb(maxUnavailable=0)], 2, ["allows no disruption"]),
    ("maxUnavailable = replicas", [_pdb(maxUnavailable=2)], 2, ["lets all 2 pods go at once"]),
    ("maxUnavailable 100%", [_pdb(maxUnavailable="100%")], 3, ["lets all 3 pods"]),
    ("minAvailable 0", [_pdb(minAvailable=0)], 2, ["lets all 2 pods"]),
    ("single replica", [_pdb(maxUnavailable=1)], 1, ["lets all 1 pods"]),
    ("neither field", [_pdb()], 2, ["sets neither minAvailable nor maxUnavailable"]),
    ("empty selector selects all", [_pdb(selector={}, maxUnavailable=1)], 2, []),
    (
        "matchExpressions",
        [
            _pdb(
                selector={
                    "matchExpressions": [{"key": "app.kubernetes.io/instance", "operator": "In", "values": ["proxy"]}]
                },
                maxUnavailable=1,
            )
        ],
        2,
        [],
    ),
]


@pytest.mark.parametrize(("case", "pdbs", "replicas", "expected"), PDB_CASES, ids=[c[0] for c in PDB_CASES])
def test_pdb_findings_table(case: str, pdbs: list[Any], replicas: int, expected: list[str]) -> None:
    found = pdb_findings("Deployment", _workload(CPU), pdbs, replicas=replicas)
    assert len(found) == len(expected), found
    for (obj, reason), want in zip(found, expected, strict=True):
        assert obj == "t1/deployment/proxy"
        assert want in reason
        assert "fix" in reason


def test_metric_apis_needed_and_not_served() -> None:
    hpas = [_hpa(), _hpa(name="q", metrics=[{"type": "Pods"}, {"type": "External"}])]
    needed = metric_groups_needed(hpas)
    assert needed == {
        "metrics.k8s.io": ["t1/horizontalpodautoscaler/proxy"],
        "custom.metrics.k8s.io": ["t1/horizontalpodautoscaler/q"],
        "external.metrics.k8s.io": ["t1/horizontalpodautoscaler/q"],
    }
    served = {"metrics.k8s.io": "not registered", "custom.metrics.k8s.io": None, "external.metrics.k8s.io": "503"}
    found = metric_api_findings(needed, served)
    assert [(o, r.split(" (")[0]) for o, r in found] == [
        ("t1/horizontalpodautoscaler/q", "external.metrics.k8s.io not served"),
        ("t1/horizontalpodautoscaler/proxy", "metrics.k8s.io not served"),
    ]
    assert "metrics-server" in found[1][1]
    assert metric_api_findings(needed, dict.fromkeys(served)) == []


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"platform_scaled": ["proxy"]}, "neither a label selector"),
        ({"platform_scaled": [" "]}, "an empty entry"),
        ({"metrics_api_gaps": {"metrics.example.io": "x y z"}}, "unknown API 'metrics.example.io'"),
        ({"metrics_api_gaps": {"metrics.k8s.io": "  "}}, "give the reason"),
        ({"max_replicas_ceiling": 0}, "greater than or equal to 1"),
        ({"nope": 1}, "Extra inputs"),
    ],
)
def test_settings_refuse_bad_input(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        KubernetesSettings(autoscaling=section)  # type: ignore[arg-type]


def test_requests_judged_as_the_hpa_controller_reads_pods() -> None:
    average = {
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "AverageValue", "averageValue": "200m"}},
    }
    assert hpa_findings("Deployment", _workload(), [_hpa(metrics=[average])], ceiling=50) == []  # absolute: no request
    limited = _workload()
    limited["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "500m"}}
    assert hpa_findings("Deployment", limited, [_hpa(metrics=[_cpu()])], ceiling=50) == []  # the limit becomes it
    zero = _workload({"cpu": "0"})
    assert "missing on c0" in hpa_findings("Deployment", zero, [_hpa(metrics=[_cpu()])], ceiling=50)[0][1]
    sidecar = _workload(CPU)
    sidecar["spec"]["template"]["spec"]["initContainers"] = [{"name": "log", "restartPolicy": "Always"}]
    assert "missing on log" in hpa_findings("Deployment", sidecar, [_hpa(metrics=[_cpu()])], ceiling=50)[0][1]


def test_a_pdb_shared_by_workloads_is_judged_over_all_their_pods() -> None:
    shared = _pdb(selector={"matchLabels": {"app.kubernetes.io/name": "minecraft"}}, maxUnavailable="50%")
    me = _workload(CPU)
    peers = [(me, 2)] + [(_workload(CPU), 2) for _ in range(4)]
    found = pdb_findings("Deployment", me, [shared], replicas=2, peers=peers)
    assert len(found) == 1
    assert "also selects 4 other workload(s); its budget of 5 over 10 pods lets all 2" in found[0][1]
    assert pdb_findings("Deployment", me, [shared], replicas=2) == []  # alone, 50 % of 2 allows 1


def test_a_workload_scaled_to_zero_needs_no_budget() -> None:
    assert pdb_findings("Deployment", _workload(CPU), [], replicas=0) == []
