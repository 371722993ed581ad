"""Kubernetes checks of any cluster: workload health, serving ratio of desired replicas, inventories.

The client and endpoint derivation are foundation (:mod:`mcproof.kubeapi`); the embedded cluster the
sandbox runs lives in the sandbox package, which only :mod:`mcproof.connect` reaches.
"""
