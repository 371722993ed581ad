"""Evidence bundles: signature, per-file hashes, tamper detection and the redaction check.

Real files, real Ed25519 keys (`cryptography`), real tar.gz archives; no network.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from mcproof.bundle import KEY_ENV, bundle_run, generate_key, load_public_key, verify_bundle
from mcproof.bundle.manifest import safe_member_path
from mcproof.bundle.redaction import find_leaks
from mcproof.config import parse_environment
from mcproof.errors import EvidenceError, SecretError
from mcproof.evidence import CheckOutcome, RunEnd, RunInfo, RunStore
from mcproof.secrets import Secret

SECRET_VAR = "MCPROOF_T_BUNDLE_RCON"
SECRET = "s3cr3t-rcon-pw-42"
ENV_YAML = f"""
name: bundle-test-env
tier: staging
minecraft:
  discovery: {{kind: static, servers: [{{host: 127.0.0.1, port: 25565}}]}}
  rcon: {{enabled: true, password: {{env: {SECRET_VAR}}}}}
"""


@pytest.fixture
def env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(SECRET_VAR, SECRET)
    path = tmp_path / "bundle-test-env.yaml"
    path.write_text(ENV_YAML, encoding="utf-8")
    return path


@pytest.fixture
def run_dir(tmp_path: Path, env_file: Path) -> Path:
    env = parse_environment(env_file.read_text(), env_file)
    store = RunStore.create(tmp_path / "reports", "20260101T000000Z-bundle-test-env-abc123")
    store.write_json("environment.json", env.snapshot())
    store.append(RunInfo(store.run_dir.name, env.name, "staging", "t0", "0.1.0", ["mcproof"], env.snapshot(), "h"))
    store.append(CheckOutcome(env.name, "smoke", "test_x", "suites/smoke/t.py::test_x", "passed", 0.1))
    store.append(RunEnd(store.run_dir.name, "t1", 0, 1))
    (store.run_dir / "load").mkdir()
    (store.run_dir / "load" / "stats.csv").write_text("name,requests\nSLP,10\n" * 50, encoding="utf-8")
    (store.run_dir / "report.md").write_text("**Verdict: PASS**\n", encoding="utf-8")
    return store.run_dir


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "signing.pem"
    path.parent.mkdir()
    generate_key(path)
    return path


def _rewrite(bundle: Path, out: Path, *, change: dict[str, bytes] | None = None, drop: str = "", add: str = "") -> Path:
    """Copy a bundle member by member, replacing, dropping or adding one member."""
    change = change or {}
    with tarfile.open(bundle, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for member in src:
            if member.name == drop:
                continue
            handle = src.extractfile(member)
            assert handle is not None
            data = change.get(member.name, handle.read())
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
        if add:
            info = tarfile.TarInfo(add)
            info.size = 3
            dst.addfile(info, io.BytesIO(b"new"))
    return out


def test_bundle_round_trip_verifies(run_dir: Path, key: Path, env_file: Path) -> None:
    done = bundle_run(run_dir, key, env_ref=str(env_file))
    assert done.output == run_dir.parent / f"{run_dir.name}.tar.gz"
    assert done.secrets_checked == 1
    paths = [f.path for f in done.manifest.files]
    assert paths == sorted(paths)
    assert {"evidence.jsonl", "environment.json", "load/stats.csv", "report.md"} <= set(paths)
    result = verify_bundle(done.output, load_public_key(key))
    assert result.ok, result.lines()
    assert result.pinned
    assert result.files_ok == len(paths)
    assert result.lines()[0].startswith(f"bundle {done.output}: OK")


def test_key_from_env_var_and_never_printed(
    run_dir: Path, key: Path, env_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, str(key))
    done = bundle_run(run_dir, None, env_ref=str(env_file))
    text = "\n".join(verify_bundle(done.output).lines())
    pem = key.read_text()
    assert pem.splitlines()[1] not in text
    with tarfile.open(done.output) as tar:
        names = tar.getnames()
        assert all("PRIVATE" not in tar.extractfile(n).read().decode(errors="replace") for n in names)  # type: ignore[union-attr]


def test_missing_key_is_a_one_line_error(run_dir: Path, env_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(SecretError, match=KEY_ENV):
        bundle_run(run_dir, None, env_ref=str(env_file))


def test_one_flipped_byte_in_a_file_is_named(run_dir: Path, key: Path, env_file: Path, tmp_path: Path) -> None:
    done = bundle_run(run_dir, key, env_ref=str(env_file))
    with tarfile.open(done.output) as tar:
        original = tar.extractfile("run/load/stats.csv").read()  # type: ignore[union-attr]
    flipped = bytearray(original)
    flipped[len(flipped) // 2] ^= 0x01
    bad = _rewrite(done.output, tmp_path / "bad.tar.gz", change={"run/load/stats.csv": bytes(flipped)})
    result = verify_bundle(bad, load_public_key(key))
    assert not result.ok
    assert result.signature_ok  # the manifest is intact; the file is not
    assert result.tampered == ("load/stats.csv",)
    assert any("tampered: load/stats.csv" in line for line in result.lines())


def test_one_flipped_byte_in_the_archive_fails_naming_a_file(run_dir: Path, key: Path, env_file: Path) -> None:
    done = bundle_run(run_dir, key, env_ref=str(env_file))
    raw = bytearray(done.output.read_bytes())
    raw[len(raw) // 2] ^= 0x10  # inside the deflate stream, not the gzip header
    done.output.write_bytes(bytes(raw))
    result = verify_bundle(done.output)
    assert not result.ok
    names = {f.path for f in done.manifest.files} | {"manifest.json", "manifest.sig", "signer.pub.pem"}
    text = "\n".join(result.lines())
    assert any(name in text for name in names), text


def test_missing_and_extra_files_are_named(run_dir: Path, key: Path, env_file: Path, tmp_path: Path) -> None:
    done = bundle_run(run_dir, key, env_ref=str(env_file))
    bad = _rewrite(done.output, tmp_path / "bad.tar.gz", drop="run/report.md", add="run/planted.txt")
    result = verify_bundle(bad)
    assert result.missing == ("report.md",)
    assert result.extra == ("planted.txt",)
    assert not result.ok


def test_altered_manifest_breaks_the_signature(run_dir: Path, key: Path, env_file: Path, tmp_path: Path) -> None:
    done = bundle_run(run_dir, key, env_ref=str(env_file))
    data = done.manifest.as_dict()
    data["run_id"] = "someone-else"
    manifest = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    result = verify_bundle(_rewrite(done.output, tmp_path / "bad.tar.gz", change={"manifest.json": manifest}))
    assert not result.signature_ok
    assert any("signature does not match" in p for p in result.problems)


def test_pinned_key_rejects_another_signer(run_dir: Path, key: Path, env_file: Path, tmp_path: Path) -> None:
    done = bundle_run(run_dir, key, env_ref=str(env_file))
    other = tmp_path / "other.pem"
    generate_key(other)
    result = verify_bundle(done.output, load_public_key(other))
    assert not result.ok
    assert any("pinned public key" in p for p in result.problems)


def test_planted_secret_refuses_to_bundle(run_dir: Path, key: Path, env_file: Path) -> None:
    (run_dir / "load" / "locust.log").write_text(f"login with password {SECRET} ok\n", encoding="utf-8")
    with pytest.raises(EvidenceError) as info:
        bundle_run(run_dir, key, env_ref=str(env_file))
    message = str(info.value)
    assert "load/locust.log" in message
    assert f"env:{SECRET_VAR}" in message
    assert SECRET not in message
    assert not list(run_dir.parent.glob("*.tar.gz"))


def test_secret_found_via_the_runs_own_snapshot(run_dir: Path, key: Path) -> None:
    """Without --env, the secret refs recorded in the run's environment snapshot are resolved."""
    (run_dir / "junit.xml").write_text(f'<failure message="{SECRET}"/>', encoding="utf-8")
    with pytest.raises(EvidenceError, match=r"junit\.xml"):
        bundle_run(run_dir, key)


def test_json_escaped_secret_and_chunk_boundaries(tmp_path: Path) -> None:
    secret = Secret('quo"te\\d', "env:X")
    (tmp_path / "a.json").write_text(json.dumps({"m": 'x quo"te\\d y'}), encoding="utf-8")
    big = b"x" * ((1 << 20) - 3) + b"tail-secret-value" + b"y" * 10
    (tmp_path / "b.bin").write_bytes(big)
    leaks = find_leaks(tmp_path, [secret, Secret("tail-secret-value", "file:/s")])
    assert {(leak.path, leak.source) for leak in leaks} == {("a.json", "env:X"), ("b.bin", "file:/s")}


def test_private_key_in_run_refuses(run_dir: Path, key: Path, env_file: Path) -> None:
    (run_dir / "oops.pem").write_bytes(key.read_bytes())
    with pytest.raises(EvidenceError, match=r"oops\.pem contains a PEM private key block"):
        bundle_run(run_dir, key, env_ref=str(env_file))


def test_hostile_archive_paths_are_refused(tmp_path: Path, key: Path, run_dir: Path, env_file: Path) -> None:
    done = bundle_run(run_dir, key, env_ref=str(env_file))
    bad = _rewrite(done.output, tmp_path / "bad.tar.gz", add="run/../../escape.txt")
    result = verify_bundle(bad)
    assert any("unsafe path" in p for p in result.problems)
    assert not (tmp_path.parent / "escape.txt").exists()
    assert (safe_member_path("a/b"), safe_member_path("a/../../b")) == (True, False)


def test_not_a_bundle(tmp_path: Path) -> None:
    path = tmp_path / "x.tar.gz"
    path.write_bytes(gzip.compress(b"not a tar"))
    result = verify_bundle(path)
    assert not result.ok
    with pytest.raises(EvidenceError, match="not found"):
        verify_bundle(tmp_path / "absent.tar.gz")
