"""The embedded Kubernetes cluster (real control plane, kwok nodes), its Minecraft workloads, and the pod bridge."""
