"""Each tenant's DKIM signers, from keys in environment variables or files.

``tidings.toml``::

    [[tenants]]
    id = "acme"
    dkim = [{ domain = "acme.example", selector = "s2026", private_key_env = "ACME_DKIM_KEY" }]
    # or private_key_file = "keys/acme.pem" (relative to the project folder)

A key in an environment variable may have its line ends written as ``\\n``.
A key that is named but missing or unusable stops the process at start
(``DkimKeyError``) rather than sending unsigned mail that DMARC would reject.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from tidings.project.model import DkimKeyConfig, TenantConfig
from tidings.providers.dkim import DkimRegistry, DkimSigner
from tidings.providers.errors import DkimKeyError

__all__ = ["registries"]


def registries(tenants: Sequence[TenantConfig], root: Path,
               environ: Mapping[str, str]) -> dict[str, DkimRegistry]:
    """One registry per tenant that has DKIM keys."""
    return {tenant.id: DkimRegistry(_signer(tenant.id, key, root, environ)
                                    for key in tenant.dkim)
            for tenant in tenants if tenant.dkim}


def _signer(tenant: str, key: DkimKeyConfig, root: Path,
            environ: Mapping[str, str]) -> DkimSigner:
    return DkimSigner(key.domain, key.selector, _pem(tenant, key, root, environ))


def _pem(tenant: str, key: DkimKeyConfig, root: Path, environ: Mapping[str, str]) -> bytes:
    where = f"tenant {tenant!r} DKIM key for {key.domain}"
    if key.private_key_env is not None:
        value = environ.get(key.private_key_env, "")
        if not value.strip():
            raise DkimKeyError(f"{where}: environment variable {key.private_key_env} is not set")
        if "\n" not in value:
            value = value.replace("\\n", "\n")
        return value.encode()
    path = root / (key.private_key_file or "")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DkimKeyError(f"{where}: cannot read {path}: {exc.strerror}") from exc
