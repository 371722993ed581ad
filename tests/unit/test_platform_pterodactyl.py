"""Parsing of the Pterodactyl client API's JSON (servers, backups, errors) and its environment section.

The payloads in ``recorded/pterodactyl/`` are written exactly as the panel's transformers and exception
handler emit them (pterodactyl/panel ``app/Transformers/Api/Client/*``, ``app/Exceptions/Handler.php`` at
commit 706db62c6); no live panel runs here, so they were not captured from one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from mcproof.config import parse_environment
from mcproof.errors import ConfigError
from mcproof.load.provisioning import ProvisioningUnsupported, provisioning_config_for
from mcproof.platform.adapter import ConflictError, CredentialsError, NotFoundError
from mcproof.platform.pterodactyl import PterodactylAdapter, backup_record, error_detail, server_record
from mcproof.secrets import Secret
from mcproof_sandbox.platform.pterodactyl_face import _paginate, atom, errors_body, identifier_for

RECORDED = Path(__file__).parent / "recorded" / "pterodactyl"


def _load(name: str) -> Any:
    return json.loads((RECORDED / name).read_text(encoding="utf-8"))


def test_server_record_takes_the_default_allocation_and_its_alias() -> None:
    page = _load("servers_page1.json")
    record = server_record(page["data"][0], "running")
    assert (record.id, record.name, record.host, record.port, record.power) == (
        "1a7ce997",
        "Survival",
        "mc.example.invalid",
        25565,
        "running",
    )
    assert page["meta"]["pagination"]["total_pages"] == 2


def test_server_without_allocation_is_a_clear_error() -> None:
    obj = _load("servers_page1.json")["data"][0]
    obj["attributes"]["relationships"]["allocations"]["data"] = []
    with pytest.raises(Exception, match="lists no allocation"):
        server_record(obj)


def test_backup_states_and_triggers() -> None:
    done, failed, running = (backup_record(b) for b in _load("backups.json")["data"])
    assert done["state"] == "available"
    assert done["trigger"] == "schedule"  # not named by mcproof: the platform's own (a schedule task)
    assert done["created_at"] == 1796166000.0
    assert done["completed_at"] - done["created_at"] == 41.0
    assert done["bytes"] == 52428800
    assert failed["state"] == "failed"
    assert failed["trigger"] == "api"
    assert running["state"] == "in_progress"
    assert running["completed_at"] is None


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [
        (401, CredentialsError, "refused the API key from env:PTERO_KEY"),
        (403, CredentialsError, "may not do this"),
        (404, NotFoundError, "set platform.server"),
        (409, ConflictError, "busy"),
    ],
)
def test_errors_map_to_the_tree_in_one_line(status: int, kind: type, words: str) -> None:
    payload = _load("errors.json")[str(status)]
    code, detail = error_detail(payload)
    assert code.endswith(("Exception", "HttpException"))
    resp = requests.Response()
    resp.status_code = status
    resp._content = json.dumps(payload).encode()
    adapter = PterodactylAdapter("https://panel.example.invalid", Secret("ptlc_secretvalue", "env:PTERO_KEY"))
    err = adapter._error("GET", "/api/client/servers/1a7ce997", resp)
    assert isinstance(err, kind)
    assert words in str(err)
    assert detail in str(err)
    assert "\n" not in str(err)
    assert "ptlc_secretvalue" not in str(err) + repr(adapter)


def test_error_detail_of_something_else() -> None:
    assert error_detail({"error": "x"}) == ("", "")
    assert error_detail("<html>") == ("", "")


def test_the_face_speaks_the_same_shapes() -> None:
    assert errors_body(404, "gone") == {
        "errors": [{"code": "NotFoundHttpException", "status": "404", "detail": "gone"}]
    }
    page = _paginate(
        [{"object": "x", "attributes": {"n": i}} for i in range(5)],
        {"page": "2", "per_page": "2"},
        20,
        50,
        "/api/client",
    )
    assert [d["attributes"]["n"] for d in page["data"]] == [2, 3]
    assert page["meta"]["pagination"] == {
        "total": 5,
        "count": 2,
        "per_page": 2,
        "current_page": 2,
        "total_pages": 3,
        "links": {"next": "/api/client?page=3&per_page=2"},
    }
    assert atom(1796166000.75) == "2026-12-01T23:00:00+00:00"
    short, full = identifier_for("mc-00000")
    assert (short, len(full)) == ("6df37e5c", 36)  # environments/local-pterodactyl.yaml names it


PANEL = """
name: panel
tier: staging
minecraft:
  discovery: {kind: static, servers: [{host: 127.0.0.1, port: 25565}]}
platform:
"""


def test_platform_section_validates_in_one_line() -> None:
    env = parse_environment(
        PANEL + "  kind: pterodactyl\n  url: https://panel.example.invalid\n"
        "  api_key: {env: PTERO_KEY}\n  server: 1a7ce997\n",
        Path("p.yaml"),
    )
    assert env.platform is not None
    assert env.platform.server == "1a7ce997"
    for bad, words in [
        ("  kind: pterodactyl\n  url: https://panel.example.invalid\n", "needs api_key"),
        ("  kind: pterodactyl\n", "needs the sandbox"),
        ("  kind: pterodactyl\n  url: ftp://x\n  api_key: {env: K}\n", "platform.url"),
        ("  kind: pelican-ish\n", "platform"),
    ]:
        with pytest.raises(ConfigError) as info:
            parse_environment(PANEL + bad, Path("p.yaml"))
        assert words in str(info.value)
        assert "\n" not in str(info.value)


def test_provisioning_load_is_refused_for_a_panel_client_api() -> None:
    env = parse_environment(
        PANEL + "  kind: pterodactyl\n  url: https://panel.example.invalid\n  api_key: {env: PTERO_KEY}\n",
        Path("p.yaml"),
    )
    with pytest.raises(ProvisioningUnsupported, match="no create-server route") as info:
        provisioning_config_for(env)
    assert "application API" in info.value.fix


@pytest.mark.parametrize("name", ["local-pterodactyl", "pterodactyl.example"])
def test_shipped_panel_environments_load(name: str) -> None:
    from mcproof.config import load_environment

    root = Path(__file__).resolve().parents[2]
    env = load_environment(str(root / "environments" / f"{name}.yaml"))
    assert env.platform is not None
    assert env.platform.kind == "pterodactyl"
    assert env.platform.server


def test_websocket_grant_shape_matches_the_panel() -> None:
    grant = _load("websocket.json")["data"]
    assert set(grant) == {"token", "socket"}
    assert grant["socket"].startswith("wss://")
    assert grant["socket"].endswith("/api/servers/1a7ce997-259b-452e-8b4e-cecc464142ca/ws")  # the uuid, not the id
