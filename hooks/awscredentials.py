"""Credentials for the standard-library client, in botocore's order for what it supports: the
environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), static keys of the
profile (AWS_PROFILE, else default) in the shared credentials file then the config file, and
the instance role from IMDSv2 (the production case), refreshed before it expires.

Everything else botocore can do (assume role, web identity, SSO, credential_process, container
credentials, FIPS or dual-stack endpoints, a profile's own endpoints, ...) is not
reimplemented: `unsupported` names what the environment asks for, and the hooks then build
botocore clients instead (hooks/clients.py)."""

from __future__ import annotations

import configparser
import os
import threading
import time
from collections.abc import Mapping
from datetime import datetime

from botocore.exceptions import NoCredentialsError, PartialCredentialsError

from hooks.errors import HookError
from hooks.metadata import InstanceMetadata
from hooks.sigv4 import Credentials

# Variables that change what botocore would do in ways this client does not follow.
UNSUPPORTED_VARIABLES = (
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    "AWS_METADATA_SERVICE_TIMEOUT",
    "AWS_METADATA_SERVICE_NUM_ATTEMPTS",
    "AWS_DATA_PATH",
    "BOTO_CONFIG",
)
# Keys of a profile this client understands (cli_* keys are the AWS CLI's own; retries are
# the hooks' own policy whatever the profile says).
PROFILE_KEYS = {
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
    "region",
    "output",
    "retry_mode",
    "max_attempts",
    "ca_bundle",
}
ROLE_PATH = "iam/security-credentials/"
# botocore's mandatory refresh: new credentials when the old ones expire within 10 minutes.
REFRESH_BEFORE = 600.0


def _profile_name(environ: Mapping[str, str]) -> str | None:
    return environ.get("AWS_DEFAULT_PROFILE") or environ.get("AWS_PROFILE") or None


def _read(path: str) -> configparser.RawConfigParser | None:
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read(os.path.expanduser(path), encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None
    return parser


def _files(environ: Mapping[str, str]) -> tuple[str, str]:
    return (
        environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials",
        environ.get("AWS_CONFIG_FILE") or "~/.aws/config",
    )


def _profiles(environ: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]] | None:
    """(credentials file section, config file section) of the profile; None if unreadable."""
    name = _profile_name(environ) or "default"
    credentials_path, config_path = _files(environ)
    credentials, config = _read(credentials_path), _read(config_path)
    if credentials is None or config is None:
        return None
    in_credentials = dict(credentials[name]) if credentials.has_section(name) else {}
    section = name if name == "default" and config.has_section(name) else f"profile {name}"
    in_config = dict(config[section]) if config.has_section(section) else {}
    return in_credentials, in_config


def unsupported(environ: Mapping[str, str]) -> str | None:
    """Why botocore must make the calls in this environment, or None."""
    for name in UNSUPPORTED_VARIABLES:
        if environ.get(name, "").strip():
            return f"{name} is set"
    profiles = _profiles(environ)
    if profiles is None:
        return "a shared AWS config or credentials file could not be read"
    in_credentials, in_config = profiles
    name = _profile_name(environ)
    if name and not in_credentials and not in_config:
        return f"profile {name} is not in the shared files (botocore reports it)"
    for key in sorted(set(in_credentials) | set(in_config)):
        if key not in PROFILE_KEYS and not key.startswith("cli_"):
            return f"the profile sets {key}"
    return None


def ca_bundle(environ: Mapping[str, str]) -> str | None:
    """The certificate bundle botocore would verify with: AWS_CA_BUNDLE, else the profile's
    ca_bundle, else None (botocore's default bundle)."""
    configured = environ.get("AWS_CA_BUNDLE", "").strip()
    if configured:
        return configured
    profiles = _profiles(environ)
    if profiles is None:
        return None
    return profiles[1].get("ca_bundle") or None


def _static(section: Mapping[str, str], source: str) -> Credentials | None:
    key, secret = section.get("aws_access_key_id"), section.get("aws_secret_access_key")
    if not key and not secret:
        return None
    if not key or not secret:
        raise PartialCredentialsError(
            provider=source,
            cred_var="aws_secret_access_key" if key else "aws_access_key_id",
        )
    token = section.get("aws_session_token") or section.get("aws_security_token")
    return Credentials(key, secret, token or None)


class CredentialChain:
    """The first credentials found, resolved on first use; the instance role's are refreshed
    before they expire. Thread-safe: the hooks call AWS on several threads."""

    def __init__(self, environ: Mapping[str, str], imds_timeout: float = 2.0) -> None:
        self._environ = dict(environ)
        self._imds_timeout = imds_timeout
        self._lock = threading.Lock()
        self._credentials: Credentials | None = None
        self._expires: float | None = None

    def get(self) -> Credentials:
        with self._lock:
            if self._credentials is None or (
                self._expires is not None and self._expires - time.time() < REFRESH_BEFORE
            ):
                self._credentials = self._resolve()
            return self._credentials

    def _resolve(self) -> Credentials:
        env = self._environ
        environment = _static(
            {
                "aws_access_key_id": env.get("AWS_ACCESS_KEY_ID", ""),
                "aws_secret_access_key": env.get("AWS_SECRET_ACCESS_KEY", ""),
                "aws_session_token": env.get("AWS_SESSION_TOKEN", "")
                or env.get("AWS_SECURITY_TOKEN", ""),
            },
            "env",
        )
        if environment is not None:
            return environment
        profiles = _profiles(env) or ({}, {})
        for section, source in zip(profiles, ("shared-credentials-file", "config-file")):  # noqa: B905
            found = _static(section, source)
            if found is not None:
                return found
        return self._instance_role()

    def _instance_role(self) -> Credentials:
        metadata = InstanceMetadata(timeout=self._imds_timeout)
        try:
            role = metadata.get(ROLE_PATH).splitlines()[0].strip()
            answer = metadata.document(ROLE_PATH + role)
        except HookError:
            # botocore's answer when no provider has credentials (the instance profile missing).
            raise NoCredentialsError() from None
        try:
            credentials = Credentials(
                str(answer["AccessKeyId"]), str(answer["SecretAccessKey"]), str(answer["Token"])
            )
            expiration = str(answer["Expiration"]).replace("Z", "+00:00")
            self._expires = datetime.fromisoformat(expiration).timestamp()
        except (KeyError, ValueError):
            raise NoCredentialsError() from None
        return credentials
