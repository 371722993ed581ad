"""The RCON credentials of an environment: ``minecraft.rcon.password``, else the sandbox's generated one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcproof.secrets import Secret

if TYPE_CHECKING:
    from mcproof.config import Environment

__all__ = ["rcon_password"]


def rcon_password(env: Environment) -> Secret | None:
    """The password to judge or use (never printed); None when the environment declares none.

    SecretError / SandboxError say what to set or start."""
    ref = env.minecraft.rcon.password
    if ref is not None:
        return ref.resolve(env.base_dir)
    state_dir = env.sandbox_state_dir
    if state_dir is None:
        return None
    from mcproof.connect.sandbox import rcon_password as sandbox_password

    return sandbox_password(state_dir)
