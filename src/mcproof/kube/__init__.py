"""The embedded Kubernetes cluster (kwok nodes, real control plane), its Minecraft workloads and the
pod bridge that turns Running pods into real servers. Sandbox-only: suites talk to any cluster through
:mod:`mcproof.kube.client` and :mod:`mcproof.kube.endpoints`, never through this lifecycle."""

from mcproof.kube.client import KubeApi, KubeError, connect
from mcproof.kube.cluster import ClusterSpec, ClusterStatus, EmbeddedCluster, kube_bin_dir
from mcproof.kube.endpoints import Endpoint, service_endpoints

__all__ = [
    "ClusterSpec",
    "ClusterStatus",
    "EmbeddedCluster",
    "Endpoint",
    "KubeApi",
    "KubeError",
    "connect",
    "kube_bin_dir",
    "service_endpoints",
]
