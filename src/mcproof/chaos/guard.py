"""Safety guards for chaos: tier/production, allowed experiments, namespaces, labels, blast radius.

Every refusal is a :class:`~mcproof.errors.GuardError` with one line saying what was refused, why,
and what to change. The runner calls :func:`check_plan` before anything is touched; the actions call
:func:`check_blast_radius` / :func:`check_namespace` again (defense in depth for a plain ``chaos run``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mcproof.chaos.settings import ChaosSettings
from mcproof.config import Environment, Tier
from mcproof.errors import GuardError

__all__ = ["check_blast_radius", "check_labels", "check_namespace", "check_tier", "max_blast_radius"]


def _settings(env: Environment) -> ChaosSettings:
    return getattr(env, "chaos", None) or ChaosSettings()


def max_blast_radius(env: Environment) -> float:
    chaos = _settings(env)
    return chaos.max_blast_radius if chaos.max_blast_radius is not None else env.guards.max_blast_radius


def check_blast_radius(env: Environment, affected: int, total: int, experiment: str = "experiment") -> None:
    """Refuse when ``affected / total`` exceeds the environment's maximum share of servers."""
    limit = max_blast_radius(env)
    if total <= 0:
        raise GuardError(f"{experiment}: refused, the environment has no targets to measure a blast radius against")
    share = affected / total
    if share > limit + 1e-9:
        raise GuardError(
            f"{experiment}: refused, it would affect {affected} of {total} servers ({share:.0%}) but the blast radius "
            f"limit is {limit:.0%}; lower count/share or raise chaos.max_blast_radius in the environment file"
        )


def check_namespace(env: Environment, namespace: str | None, experiment: str = "experiment") -> None:
    """A namespaced activity must name a namespace in ``guards.allowed_namespaces``."""
    if namespace is None:
        return
    allowed = env.guards.allowed_namespaces
    if namespace not in allowed:
        shown = ", ".join(allowed) if allowed else "none"
        raise GuardError(
            f"{experiment}: refused, namespace {namespace!r} is not in guards.allowed_namespaces ({shown}); "
            "add it to the environment file or target another namespace"
        )


def check_labels(env: Environment, selector: Mapping[str, str], experiment: str = "experiment") -> None:
    """A label selector must include every label of ``chaos.allowed_labels`` with the same value."""
    required = _settings(env).allowed_labels
    missing = {k: v for k, v in required.items() if selector.get(k) != v}
    if required and missing:
        need = ",".join(f"{k}={v}" for k, v in required.items())
        raise GuardError(
            f"{experiment}: refused, label selector {dict(selector) or '(none)'} is outside chaos.allowed_labels; "
            f"it must include {need}"
        )


def check_tier(env: Environment, experiment: str, tiers: Iterable[str], acknowledged: bool) -> None:
    """The experiment must be tagged for the tier, allowed by the environment, and acked on production."""
    chaos = _settings(env)
    tier = env.tier.value
    tiers = list(tiers)
    if tier not in tiers:
        raise GuardError(
            f"{experiment}: refused, it is tagged for tiers {', '.join(tiers) or 'none'} but environment "
            f"'{env.name}' is tier {tier}; add the tag 'tier:{tier}' to the experiment only if it is safe there"
        )
    if chaos.allowed_experiments and experiment not in chaos.allowed_experiments:
        raise GuardError(
            f"{experiment}: refused, not in chaos.allowed_experiments of '{env.name}' "
            f"({', '.join(chaos.allowed_experiments)})"
        )
    if env.tier is Tier.PRODUCTION and env.guards.production_guard:
        if not chaos.allow_production or experiment not in chaos.allowed_experiments:
            raise GuardError(
                f"{experiment}: refused on production '{env.name}', the environment must set chaos.allow_production: "
                "true and list the experiment in chaos.allowed_experiments"
            )
        if not acknowledged:
            raise GuardError(
                f"{experiment}: refused on production '{env.name}' without --ack-production; "
                "re-run with --ack-production once the change window is open"
            )
