"""The manifests follow the itzg chart conventions and the restricted Pod Security Standard."""

from __future__ import annotations

from mcproof_sandbox.kube.bridge import desired_ip, shard_of
from mcproof_sandbox.kube.cluster import ClusterSpec, kwokctl_config
from mcproof_sandbox.kube.manifests import (
    kwok_node,
    minecraft_service,
    minecraft_statefulset,
    network_policies,
    static_pv,
    tenant_namespace,
)


def test_statefulset_follows_the_itzg_chart_and_restricted_pss() -> None:
    sts = minecraft_statefulset("t1", "survival", replicas=3, persistence=True)
    assert sts["metadata"]["labels"]["app.kubernetes.io/name"] == "minecraft"
    pod = sts["spec"]["template"]["spec"]
    container = pod["containers"][0]
    ports = {(p["name"], p["containerPort"], p["protocol"]) for p in container["ports"]}
    assert ports == {("minecraft", 25565, "TCP"), ("rcon", 25575, "TCP"), ("query", 25565, "UDP")}
    assert {"name": "EULA", "value": "TRUE"} in container["env"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert sts["spec"]["podManagementPolicy"] == "Parallel"
    assert sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    assert "volumeClaimTemplates" not in minecraft_statefulset("t1", "x")["spec"]


def test_namespace_service_policies_pv_node() -> None:
    labels = tenant_namespace("t1")["metadata"]["labels"]
    assert {labels[f"pod-security.kubernetes.io/{m}"] for m in ("enforce", "audit", "warn")} == {"restricted"}
    svc = minecraft_service("t1", "survival")
    assert svc["spec"]["selector"] == {"app.kubernetes.io/name": "minecraft", "app.kubernetes.io/instance": "survival"}
    assert svc["spec"]["ports"][0] == {"name": "minecraft", "port": 25565, "targetPort": "minecraft", "protocol": "TCP"}
    deny, allow = network_policies("t1")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert allow["spec"]["ingress"][0]["ports"] == [
        {"protocol": "TCP", "port": 25565},
        {"protocol": "UDP", "port": 25565},
    ]
    assert static_pv("t1", "data-survival-0")["spec"]["claimRef"] == {"namespace": "t1", "name": "data-survival-0"}
    node = kwok_node("kwok-node-0", pods=500)
    assert "podCIDR" not in node["spec"]  # kwok then allocates pod IPs from its loopback --cidr
    assert node["status"]["allocatable"]["pods"] == "500"


def test_kwokctl_config_is_loopback_only() -> None:
    config = kwokctl_config(ClusterSpec(pod_cidr="127.70.0.0/16"))
    assert config["options"]["bindAddress"] == "127.0.0.1"
    args = {p["name"]: {a["key"]: a["value"] for a in p["extraArgs"]} for p in config["componentsPatches"]}
    assert args["kwok-controller"]["cidr"] == "127.70.0.0/16"
    assert args["kube-apiserver"]["service-cluster-ip-range"] == "127.96.0.0/16"
    assert "PodSecurity" in args["kube-apiserver"]["enable-admission-plugins"]
    assert "ResourceQuota" in args["kube-apiserver"]["enable-admission-plugins"]


def test_cluster_spec_refuses_non_loopback_ranges() -> None:
    import pytest

    from mcproof.kubeapi import KubeError

    with pytest.raises(KubeError, match=r"127\.0\.0\.0/8"):
        ClusterSpec(pod_cidr="203.0.113.0/24")


def test_bridge_serves_only_running_loopback_pods() -> None:
    running = {"metadata": {"name": "a"}, "status": {"phase": "Running", "podIP": "127.64.0.3"}}
    assert desired_ip(running) == "127.64.0.3"
    assert desired_ip({"metadata": {}, "status": {"phase": "Pending", "podIP": "127.64.0.3"}}) is None
    assert desired_ip({"metadata": {}, "status": {"phase": "Running", "podIP": "203.0.113.3"}}) is None
    assert {shard_of("t1", f"mc-{i}-0", 3) for i in range(50)} == {0, 1, 2}


def test_bridge_serves_the_release_a_pod_annotation_names() -> None:
    from mcproof_sandbox.kube.bridge import PROTOCOL_ANNOTATION, VERSION_ANNOTATION, pod_release, slim_pod

    pod = {
        "metadata": {
            "name": "proxy-1",
            "annotations": {VERSION_ANNOTATION: "1.21.5", PROTOCOL_ANNOTATION: "770", "other": "x" * 4000},
        },
        "status": {"phase": "Running", "podIP": "127.64.0.3"},
    }
    slim = slim_pod(pod)
    assert slim["metadata"]["annotations"] == {VERSION_ANNOTATION: "1.21.5", PROTOCOL_ANNOTATION: "770"}
    assert pod_release(slim) == ("1.21.5", 770)
    assert pod_release(slim_pod({"metadata": {"name": "a"}, "status": {}})) is None  # the cluster's version
    assert pod_release({"metadata": {"annotations": {VERSION_ANNOTATION: "1.21.5", PROTOCOL_ANNOTATION: "x"}}}) is None
