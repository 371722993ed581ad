"""Runbook coverage: every alert links a runbook that exists, has the required sections, and whose kubectl
commands pass a server-side dry run against the environment's cluster.

Pure parsing (rules, Markdown headings, GitHub slugs, fenced ``sh`` blocks, kubectl argv) is separate from
the two effectful parts: fetching ``/api/v1/rules`` and the dry run through the ``kubernetes`` dynamic client.

Placeholder convention: a command holding ``<name>`` is run only after substitution from a comment
``# mcproof-dry-run: name=value other=value`` in the same block (applies to the commands after it); a
placeholder left unresolved makes that command *inconclusive* (skipped, with the reason) -- never a pass.

>>> github_slug("Diagnosis & next steps")
'diagnosis--next-steps'
>>> headings("# Title\\n## Symptoms\\n```sh\\n# not a heading\\n```\\n### Impact")
['Title', 'Symptoms', 'Impact']
>>> parse_kubectl("kubectl -n games scale deployment/web --replicas=2").verb
'scale'
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

__all__ = [
    "DEFAULT_SECTIONS",
    "Alert",
    "Finding",
    "KubectlCommand",
    "alerts_from_rule_groups",
    "check_alert_links",
    "check_experiments",
    "check_sections",
    "commands_in",
    "coverage",
    "dry_run",
    "github_slug",
    "headings",
    "load_alerts",
    "overall",
    "parse_kubectl",
    "resolve_runbook",
]

DEFAULT_SECTIONS = ("symptoms", "impact", "diagnosis", "mitigation", "escalation")
Verdict = Literal["pass", "fail", "inconclusive"]


@dataclass(frozen=True)
class Finding:
    """One judged object: ``subject`` (alert, file, command), verdict, and what to fix."""

    check: str
    subject: str
    verdict: Verdict
    detail: str


@dataclass(frozen=True)
class Alert:
    name: str
    runbook_url: str | None
    group: str = ""


# ---------------------------------------------------------------- alert rules


def alerts_from_rule_groups(groups: Iterable[Mapping[str, Any]]) -> list[Alert]:
    """Alerts of a rule file's ``groups`` or of ``/api/v1/rules``'s ``data.groups`` (both shapes).

    >>> alerts_from_rule_groups([{"name": "g", "rules": [{"alert": "A", "annotations": {"runbook_url": "a.md"}},
    ...     {"record": "r"}, {"type": "alerting", "name": "B", "annotations": {}}]}])
    [Alert(name='A', runbook_url='a.md', group='g'), Alert(name='B', runbook_url=None, group='g')]
    """
    out: list[Alert] = []
    for g in groups:
        for r in g.get("rules") or []:
            name = r.get("alert") or (r.get("name") if r.get("type") == "alerting" else None)
            if not name:
                continue
            url = (r.get("annotations") or {}).get("runbook_url")
            out.append(Alert(str(name), str(url).strip() if url else None, str(g.get("name", ""))))
    return out


def load_alerts(source: str) -> list[Alert]:
    """Alerts of a Prometheus rules file (``alert_rules: api`` reads the environment's Prometheus instead,
    through :class:`mcproof.monitoring.promql.PromClient`)."""
    if source.startswith(("http://", "https://")):
        raise ValueError(
            f"{source}: alert rules are read from a file, or from the environment's Prometheus (loopback only) "
            "with `alert_rules: api`"
        )
    path = Path(source)
    if not path.is_file():
        raise ValueError(f"{path}: alert rules file not found; set monitoring.runbooks.alert_rules")
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not a YAML rules file ({str(err).splitlines()[0]})") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: a rules file holds a mapping with `groups:`")
    return alerts_from_rule_groups(doc.get("groups") or [])


# ---------------------------------------------------------------- Markdown


_FENCE = re.compile(r"^(```|~~~)\s*([\w+-]*)")


def _lines_outside_fences(text: str) -> Iterable[str]:
    fence: str | None = None
    for line in text.splitlines():
        m = _FENCE.match(line.strip())
        if m:
            fence = None if fence == m.group(1) else (fence or m.group(1))
            continue
        if fence is None:
            yield line


def headings(text: str) -> list[str]:
    """ATX headings (``#`` .. ``######``) outside fenced blocks, without the hashes."""
    out = []
    for line in _lines_outside_fences(text):
        m = re.match(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            out.append(m.group(1))
    return out


def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.

    >>> github_slug("Mitigation: restart the `pod`"), github_slug("  Step 2 -- Scale  ")
    ('mitigation-restart-the-pod', 'step-2----scale')
    """
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading anchor of a document (duplicates get ``-1``, ``-2`` like GitHub)."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    for h in headings(text):
        slug = github_slug(h)
        n = seen.get(slug, 0)
        out.add(slug if n == 0 else f"{slug}-{n}")
        seen[slug] = n + 1
    return out


@dataclass(frozen=True)
class ShCommand:
    text: str
    line: int
    subs: Mapping[str, str] = field(default_factory=dict)


def commands_in(text: str) -> list[ShCommand]:
    """Commands of fenced ``sh``/``bash``/``shell`` blocks (backslash continuations joined), each with the
    ``# mcproof-dry-run: k=v`` substitutions seen before it in its block."""
    out: list[ShCommand] = []
    in_sh = False
    fence: str | None = None
    subs: dict[str, str] = {}
    pending, start = "", 0
    for n, raw in enumerate(text.splitlines(), 1):
        m = _FENCE.match(raw.strip())
        if m and (fence is None or m.group(1) == fence):
            if fence is None:
                fence, in_sh, subs = m.group(1), m.group(2) in ("sh", "bash", "shell", "console"), {}
            else:
                fence, in_sh = None, False
            continue
        if not in_sh:
            continue
        line = raw.strip()
        if line.startswith("$ "):
            line = line[2:]
        dm = re.match(r"#\s*mcproof-dry-run:\s*(.*)$", line)
        if dm:
            for tok in shlex.split(dm.group(1)):
                if "=" in tok:
                    k, v = tok.split("=", 1)
                    subs[k.strip("<>")] = v
            continue
        if not line or line.startswith("#"):
            continue
        if not pending:
            start = n
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        out.append(ShCommand(pending + line, start, dict(subs)))
        pending = ""
    return out


# ---------------------------------------------------------------- checks over files


def resolve_runbook(url: str, runbooks: str) -> tuple[Path | None, str, str]:
    """``(path or None, anchor, reason)`` for a ``runbook_url``: a relative path or ``file://`` is taken
    under the runbooks dir; an URL under the runbooks base URL maps to the same relative path."""
    base, _, anchor = url.partition("#")
    if runbooks.startswith(("http://", "https://")) and base.startswith(runbooks.rstrip("/") + "/"):
        return None, anchor, "http runbooks are not fetched (network rule: loopback only)"
    if base.startswith(("http://", "https://")):
        return None, anchor, f"{base} is not under the runbooks dir {runbooks} and cannot be fetched here"
    if base.startswith("file://"):
        base = urllib.parse.urlsplit(base).path
    p = Path(base)
    return (p if p.is_absolute() else Path(runbooks) / p), anchor, ""


def check_alert_links(alerts: Sequence[Alert], runbooks: str) -> list[Finding]:
    out = []
    for a in alerts:
        if not a.runbook_url:
            out.append(Finding("runbook_url", a.name, "fail", "no runbook_url annotation; add one to the rule"))
            continue
        path, anchor, reason = resolve_runbook(a.runbook_url, runbooks)
        if path is None:
            out.append(Finding("runbook_url", a.name, "inconclusive", reason))
        elif not path.is_file():
            out.append(Finding("runbook_url", a.name, "fail", f"{a.runbook_url}: {path} does not exist"))
        elif anchor and anchor not in anchors(path.read_text()):
            out.append(
                Finding("runbook_url", a.name, "fail", f"{a.runbook_url}: no heading with anchor #{anchor} in {path}")
            )
        else:
            out.append(Finding("runbook_url", a.name, "pass", f"{a.runbook_url} -> {path}"))
    return out


def check_sections(path: Path, required: Sequence[str] = DEFAULT_SECTIONS) -> Finding:
    """Every required section is a heading (case-insensitive; a heading *starting* with the word counts)."""
    got = [h.lower() for h in headings(path.read_text())]
    missing = [s for s in required if not any(h == s.lower() or h.startswith(s.lower()) for h in got)]
    if missing:
        return Finding("sections", str(path), "fail", f"missing section(s) {', '.join(missing)}; add those headings")
    return Finding("sections", str(path), "pass", ", ".join(required))


def check_experiments(experiments_dir: Path, alerts: Sequence[Alert], runbooks: str) -> list[Finding]:
    """Every experiment's ``mcproof`` extension names ``alert`` (a known alert) and ``runbook`` (a file)."""
    known = {a.name for a in alerts}
    files = sorted(experiments_dir.glob("*.json")) if experiments_dir.is_dir() else []
    if not files:  # nothing checked is not a pass
        return [
            Finding(
                "experiment",
                str(experiments_dir),
                "inconclusive",
                "no experiment files (*.json) there; set monitoring.runbooks.experiments to the chaos library",
            )
        ]
    out = []
    for p in files:
        try:
            doc = json.loads(p.read_text())
        except (ValueError, OSError) as err:
            out.append(Finding("experiment", p.name, "fail", f"unreadable experiment ({err}); fix the JSON"))
            continue
        extensions = doc.get("extensions") if isinstance(doc, dict) else None
        ext: dict[str, Any] = next(
            (e for e in extensions or [] if isinstance(e, dict) and e.get("name") == "mcproof"), {}
        )
        alert, runbook = ext.get("alert"), ext.get("runbook")
        if not alert or not runbook:
            out.append(Finding("experiment", p.name, "fail", "the mcproof extension must name `alert` and `runbook`"))
        elif alert not in known:
            out.append(Finding("experiment", p.name, "fail", f"alert {alert} is not in the alert rules"))
        else:
            path, _anchor, reason = resolve_runbook(str(runbook), runbooks)
            if path is None:
                out.append(Finding("experiment", p.name, "inconclusive", reason))
            elif not path.is_file():
                out.append(Finding("experiment", p.name, "fail", f"runbook {runbook}: {path} does not exist"))
            else:
                out.append(Finding("experiment", p.name, "pass", f"{alert} -> {runbook}"))
    return out


# ---------------------------------------------------------------- kubectl


_KINDS = {
    "deployment": ("apps/v1", "Deployment"),
    "deploy": ("apps/v1", "Deployment"),
    "deployments": ("apps/v1", "Deployment"),
    "statefulset": ("apps/v1", "StatefulSet"),
    "sts": ("apps/v1", "StatefulSet"),
    "statefulsets": ("apps/v1", "StatefulSet"),
    "pod": ("v1", "Pod"),
    "po": ("v1", "Pod"),
    "pods": ("v1", "Pod"),
    "service": ("v1", "Service"),
    "svc": ("v1", "Service"),
    "configmap": ("v1", "ConfigMap"),
    "cm": ("v1", "ConfigMap"),
    "node": ("v1", "Node"),
    "nodes": ("v1", "Node"),
    "namespace": ("v1", "Namespace"),
    "ns": ("v1", "Namespace"),
}
_READ_ONLY = ("get", "describe", "logs")
_SUPPORTED = (*_READ_ONLY, "apply", "scale", "rollout", "delete", "annotate", "label", "patch")


@dataclass(frozen=True)
class KubectlCommand:
    verb: str
    args: tuple[str, ...]  # positional, after the verb
    flags: Mapping[str, str]
    namespace: str


def parse_kubectl(command: str) -> KubectlCommand:
    """argv of a ``kubectl`` command (flags as ``--k=v`` / ``--k v`` / ``-n ns``); ValueError if unsupported.

    >>> c = parse_kubectl("kubectl patch deploy/web -n g --type=merge -p '{\\"a\\": 1}'")
    >>> c.verb, c.args, c.flags["type"], c.namespace
    ('patch', ('deploy/web',), 'merge', 'g')
    """
    argv = shlex.split(command)
    if not argv or argv[0] != "kubectl":
        raise ValueError("not a kubectl command")
    flags: dict[str, str] = {}
    pos: list[str] = []
    short = {"-n": "namespace", "-f": "filename", "-p": "patch", "-l": "selector", "-c": "container"}
    i = 1
    boolean = {"overwrite", "all", "wait", "now", "force", "follow", "previous"}
    while i < len(argv):
        a = argv[i]
        if a in short:
            flags[short[a]] = argv[i + 1] if i + 1 < len(argv) else ""
            i += 2
        elif a.startswith("--"):
            k, eq, v = a[2:].partition("=")
            if eq or k in boolean or i + 1 >= len(argv) or argv[i + 1].startswith("-"):
                flags[k] = v if eq else "true"
                i += 1
            else:
                flags[k] = argv[i + 1]
                i += 2
        elif a.startswith("-") and len(a) > 2 and a[:2] in short:
            flags[short[a[:2]]] = a[2:]
            i += 1
        else:
            pos.append(a)
            i += 1
    if not pos or pos[0] not in _SUPPORTED:
        raise ValueError(f"kubectl {pos[0] if pos else ''} is not supported by the dry-run check")
    return KubectlCommand(pos[0], tuple(pos[1:]), flags, flags.get("namespace", "default"))


def _target(args: Sequence[str]) -> tuple[str, str, str, list[str]]:
    """``(api_version, kind, name, rest)`` from ``kind/name`` or ``kind name``."""
    if not args:
        raise ValueError("no resource named")
    if "/" in args[0]:
        kind, name = args[0].split("/", 1)
        rest = list(args[1:])
    else:
        if len(args) < 2:
            raise ValueError(f"{args[0]}: no resource name")
        kind, name, rest = args[0], args[1], list(args[2:])
    if kind.lower() not in _KINDS:
        raise ValueError(f"resource kind {kind} is not supported by the dry-run check")
    api_version, k = _KINDS[kind.lower()]
    return api_version, k, name, rest


_PLACEHOLDER = re.compile(r"<([\w.-]+)>")


def substitute(cmd: ShCommand) -> tuple[str, list[str]]:
    """The command with its placeholders replaced; names left unresolved."""
    text = _PLACEHOLDER.sub(lambda m: cmd.subs.get(m.group(1), m.group(0)), cmd.text)
    return text, _PLACEHOLDER.findall(text)


def dry_run(cmd: ShCommand, api_client: Any, *, subject: str, base_dir: Path | None = None) -> Finding:
    """Run ``cmd`` (a kubectl command) as the equivalent API call with ``dryRun=All`` (mutations) or a read
    (get/describe/logs: the object must exist). Any API error is a fail naming the command."""
    from kubernetes import dynamic
    from kubernetes.client.exceptions import ApiException

    text, unresolved = substitute(cmd)
    where = f"{subject}:{cmd.line}"
    if unresolved:
        return Finding(
            "dry-run",
            where,
            "inconclusive",
            f"`{text}`: placeholder(s) {', '.join(unresolved)} unresolved; add `# mcproof-dry-run: "
            + " ".join(f"{u}=..." for u in unresolved)
            + "` to the block",
        )
    try:
        k = parse_kubectl(text)
    except ValueError as err:
        return Finding("dry-run", where, "inconclusive", f"`{text}`: {err}")
    dyn = dynamic.DynamicClient(api_client)  # type: ignore[no-untyped-call]
    try:
        _run(k, dyn, base_dir)
    except ApiException as err:
        reason = err.reason
        with contextlib.suppress(ValueError):
            reason = json.loads(err.body or "{}").get("message") or reason
        return Finding("dry-run", where, "fail", f"`{text}`: HTTP {err.status}: {reason}")
    except (ValueError, OSError) as err:
        return Finding("dry-run", where, "fail", f"`{text}`: {err}")
    return Finding("dry-run", where, "pass", f"`{text}`")


def _run(k: KubectlCommand, dyn: Any, base_dir: Path | None) -> None:
    dr = {"dry_run": "All"}
    ns = k.namespace
    if k.verb == "apply":
        f = Path(k.flags.get("filename", ""))
        if not f.is_absolute() and base_dir is not None:
            f = base_dir / f
        for doc in yaml.safe_load_all(f.read_text()):
            if not doc:
                continue
            res = dyn.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
            meta = doc.get("metadata", {})
            res.server_side_apply(
                body=doc,
                name=meta["name"],
                namespace=meta.get("namespace", ns) if res.namespaced else None,
                field_manager="mcproof-runbook",
                force_conflicts=True,
                **dr,
            )
        return
    if k.verb == "rollout":
        if not k.args or k.args[0] not in ("restart", "undo", "status"):
            raise ValueError("kubectl rollout: only restart/undo/status are supported")
        api_version, kind, name, _ = _target(k.args[1:])
        res = dyn.resources.get(api_version=api_version, kind=kind)
        if k.args[0] == "status":
            res.get(name=name, namespace=ns)
            return
        if k.args[0] == "restart":
            body = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "dry"}}}}}
            res.patch(body=body, name=name, namespace=ns, content_type="application/merge-patch+json", **dr)
            return
        # undo: the previous revision must exist (a ReplicaSet owned by it with a lower revision)
        obj = res.get(name=name, namespace=ns)
        rev = int((obj.metadata.annotations or {}).get("deployment.kubernetes.io/revision", "1"))
        if rev < 2 and "to-revision" not in k.flags:
            raise ValueError(f"{kind}/{name} is at revision {rev}: no previous revision to undo to")
        res.patch(body={"metadata": {"annotations": {}}}, name=name, namespace=ns,
                  content_type="application/merge-patch+json", **dr)  # fmt: skip
        return
    if k.verb == "logs":  # kubectl logs <pod> | pod/<pod> | deploy/<name>: the object must exist
        if not k.args:
            raise ValueError("kubectl logs: no pod named")
        target = k.args[0] if "/" in k.args[0] else f"pod/{k.args[0]}"
        api_version, kind, name, _ = _target([target])
        dyn.resources.get(api_version=api_version, kind=kind).get(name=name, namespace=ns)
        return
    if k.verb in _READ_ONLY and len(k.args) == 1 and "/" not in k.args[0]:
        if k.args[0].lower() not in _KINDS:
            raise ValueError(f"resource kind {k.args[0]} is not supported by the dry-run check")
        api_version, kind = _KINDS[k.args[0].lower()]
        res = dyn.resources.get(api_version=api_version, kind=kind)
        res.get(namespace=ns if res.namespaced else None)  # a list: the namespace and kind must be readable
        return
    api_version, kind, name, rest = _target(k.args)
    res = dyn.resources.get(api_version=api_version, kind=kind)
    nsarg = ns if res.namespaced else None
    if k.verb in _READ_ONLY:
        res.get(name=name, namespace=nsarg)
    elif k.verb == "scale":
        replicas = int(k.flags.get("replicas", "x"))
        sub = res.subresources["scale"]
        sub.patch(body={"spec": {"replicas": replicas}}, name=name, namespace=nsarg,
                  content_type="application/merge-patch+json", **dr)  # fmt: skip
    elif k.verb == "delete":
        res.delete(name=name, namespace=nsarg, **dr)
    elif k.verb in ("annotate", "label"):
        key = "annotations" if k.verb == "annotate" else "labels"
        kv: dict[str, str | None] = {}
        for item in rest:
            if item.endswith("-") and "=" not in item:
                kv[item[:-1]] = None
            elif "=" in item:
                a, b = item.split("=", 1)
                kv[a] = b
            else:
                raise ValueError(f"{item}: expected key=value or key-")
        res.patch(body={"metadata": {key: kv}}, name=name, namespace=nsarg,
                  content_type="application/merge-patch+json", **dr)  # fmt: skip
    elif k.verb == "patch":
        ptype = k.flags.get("type", "strategic")
        ctype = {
            "strategic": "application/strategic-merge-patch+json",
            "merge": "application/merge-patch+json",
            "json": "application/json-patch+json",
        }.get(ptype)
        if ctype is None:
            raise ValueError(f"--type {ptype}: expected strategic, merge or json")
        body = json.loads(k.flags.get("patch", ""))
        res.patch(body=body, name=name, namespace=nsarg, content_type=ctype, **dr)


# ---------------------------------------------------------------- the whole coverage


def coverage(
    alerts: Sequence[Alert],
    runbooks: str,
    *,
    required: Sequence[str] = DEFAULT_SECTIONS,
    experiments: Path | None = None,
    api_client: Any = None,
) -> tuple[list[dict[str, Any]], list[Finding]]:
    """Every check over ``alerts`` and the runbooks they link: rows (alert -> runbook -> sections ->
    dry-run, the report's table) and every finding. ``api_client`` None: dry runs are inconclusive."""
    findings = check_alert_links(alerts, runbooks)
    rows: list[dict[str, Any]] = []
    checked: dict[Path, tuple[Finding, list[Finding]]] = {}

    def check(path: Path) -> tuple[Finding, list[Finding]]:
        if path not in checked:
            runs = [
                dry_run(c, api_client, subject=str(path), base_dir=path.parent)
                if api_client is not None
                else Finding("dry-run", f"{path}:{c.line}", "inconclusive", "no cluster in the environment")
                for c in commands_in(path.read_text())
                if c.text.startswith("kubectl ")
            ]
            checked[path] = (check_sections(path, required), runs)
        return checked[path]

    for alert, link in zip(alerts, findings, strict=True):
        row: dict[str, Any] = {"alert": alert.name, "runbook": alert.runbook_url, "link": link.verdict}
        path = resolve_runbook(alert.runbook_url, runbooks)[0] if alert.runbook_url else None
        if link.verdict == "pass" and path is not None:
            sections, runs = check(path)
            row["sections"] = sections.verdict
            row["dry_run"] = _worst([f.verdict for f in runs]) if runs else "no kubectl commands"
            row["commands"] = len(runs)
        rows.append(row)
    base = Path(runbooks)
    if not runbooks.startswith(("http://", "https://")) and base.is_dir():
        for path in sorted(base.glob("*.md")):  # runbooks no alert links are judged too
            check(path)
    for sections, runs in checked.values():
        findings += [sections, *runs]
    if experiments is not None:
        findings += check_experiments(experiments, alerts, runbooks)
    return rows, findings


def _worst(verdicts: Sequence[str]) -> str:
    return "fail" if "fail" in verdicts else "inconclusive" if "inconclusive" in verdicts else "pass"


def overall(findings: Sequence[Finding]) -> str:
    """fail if any finding fails, else inconclusive if any is, else pass (no findings: inconclusive)."""
    return _worst([f.verdict for f in findings]) if findings else "inconclusive"
