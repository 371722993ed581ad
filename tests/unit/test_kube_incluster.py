"""`kube.client.connect` falls back to the in-cluster config (no cluster needed): the selection logic,
the client it builds from a service-account token, and the one-line failure outside a pod."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes.config import incluster_config

import mcproof.kubeapi as kube_client
from mcproof.kubeapi import KubeError, config_source, connect


@pytest.fixture
def token(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text("sa-token-value")  # as the kubelet writes it: no newline
    return path


def test_selection(token: Path, tmp_path: Path) -> None:
    missing = tmp_path / "absent"
    assert config_source(None, {}, token) == "in-cluster"
    assert config_source(None, {}, missing) == "kubeconfig"  # outside a pod: $KUBECONFIG / ~/.kube/config
    assert config_source("kc.yaml", {}, token) == "kubeconfig"  # the environment names one: it wins
    assert config_source(Path("kc.yaml"), {}, token) == "kubeconfig"
    assert config_source(None, {"KUBECONFIG": "/x/kc"}, token) == "kubeconfig"  # so does $KUBECONFIG
    assert config_source(None, {"KUBECONFIG": ""}, token) == "in-cluster"


def test_connect_uses_the_service_account(token: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setattr(kube_client, "SERVICE_ACCOUNT_TOKEN", token)
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(ca))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "6443")
    api = connect(None, timeout=3.0)
    cfg = api.client.configuration
    assert api.kubeconfig == "(in-cluster)"
    assert cfg.host == "https://127.0.0.1:6443"
    assert cfg.ssl_ca_cert == str(ca)
    assert cfg.api_key["BearerToken"].lower() == "bearer sa-token-value"
    assert "sa-token-value" not in repr(api)
    assert api.timeout == 3.0


def test_connect_in_cluster_without_service_env_is_one_clear_line(token: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setattr(kube_client, "SERVICE_ACCOUNT_TOKEN", token)
    with pytest.raises(KubeError) as err:
        connect(None)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith("in-cluster Kubernetes config failed")
    assert "kubernetes.kubeconfig" in text


def test_named_kubeconfig_is_unchanged(token: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kube_client, "SERVICE_ACCOUNT_TOKEN", token)
    with pytest.raises(KubeError, match=r"kubeconfig .*absent\.yaml does not exist"):
        connect(tmp_path / "absent.yaml")
