"""The one error type of the hooks, their exit codes, and how an AWS error becomes one line.

The CLI turns a HookError into `cutover-hooks <command>: error: <message>` on stderr and its
exit code. The codes are documented (and mapped into the project's convention) in
hooks/README.md."""

from __future__ import annotations

import re

EXIT_OK = 0
# AWS refused an operation, or the group is in a state the hook cannot handle.
EXIT_FAILED = 1
# A bad option, variable, settings file, appspec or stack config.
EXIT_USAGE = 2
# The hook's own deadline passed (waiting for a drain, a health check, or through throttling).
EXIT_DEADLINE = 3
# The zero-downtime floor refused to take the instance out.
EXIT_REFUSED = 4
# The environment: AWS or the metadata service unreachable or answering something that is not
# theirs (a proxy's HTML page), no credentials, access denied, an unwritable folder.
EXIT_ENVIRONMENT = 5
# A bug: one line on stderr (the traceback only with --debug or CUTOVER_DEBUG=1). EX_SOFTWARE.
EXIT_UNEXPECTED = 70
# Interrupted (Ctrl-C, SIGTERM): the same code as every Cutover command (a test pins it).
EXIT_INTERRUPTED = 130


class HookError(Exception):
    """A hook could not do its job; the message says what happened and what to do about it."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# Error codes AWS answers when the caller's identity or permissions are the problem, not the
# request: the instance profile or the credentials need fixing, not the group.
_CREDENTIAL_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthFailure",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "MissingAuthenticationToken",
}
_CONNECTION_ERRORS = (
    "EndpointConnectionError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ConnectionClosedError",
    "ProxyConnectionError",
    "SSLError",
    "EndpointResolutionError",
    "NoRegionError",
    "InvalidRegionError",
)
_CREDENTIAL_ERRORS = (
    "NoCredentialsError",
    "PartialCredentialsError",
    "CredentialRetrievalError",
    "UnauthorizedSSOTokenError",
    "TokenRetrievalError",
)
_SNIPPET = 120


def one_line(text: str, limit: int = 300) -> str:
    """`text` on one line (botocore puts response bodies in its messages), cut at `limit`."""
    flat = re.sub(r"\s+", " ", str(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _names(error: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(error).__mro__}


def _raised_in_parser(error: BaseException) -> bool:
    """True for a KeyError & co. raised inside botocore's response parsers: well-formed XML
    that is not the answer botocore expects (an XHTML page from a proxy) fails there."""
    tb, last = error.__traceback__, None
    while tb is not None:
        last, tb = tb, tb.tb_next
    filename = last.tb_frame.f_code.co_filename if last is not None else ""
    return "botocore" in filename and filename.endswith("parsers.py")


def is_aws_error(error: BaseException) -> bool:
    """Anything an AWS client raises: botocore's exception tree (the standard-library client,
    hooks/awsclient.py, raises the same classes), and either client's parser errors (botocore's
    and hooks/awsprotocol.py's ResponseParserError are not in that tree)."""
    module = type(error).__module__ or ""
    return (
        module.startswith("botocore")
        or "ResponseParserError" in _names(error)
        or _raised_in_parser(error)
    )


def aws_error(error: BaseException, operation: str | None = None) -> HookError:
    """One clear HookError for anything an AWS client raised, with the exit code of its kind."""
    names = _names(error)
    what = f"AWS {operation}" if operation else "an AWS call"
    if "ClientError" in names:
        response = getattr(error, "response", {})
        info = response.get("Error", {})
        code, message = info.get("Code") or "", one_line(info.get("Message") or "")
        op = getattr(error, "operation_name", None) or operation or "call"
        if not code:
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
            return HookError(
                f"AWS {op} got an answer that is not an AWS response (HTTP {status} without an "
                "AWS error code); something other than AWS answers at the endpoint (a proxy, a "
                "captive portal, a wrong AWS_ENDPOINT_URL): check AWS_ENDPOINT_URL and "
                "HTTPS_PROXY/NO_PROXY",
                EXIT_ENVIRONMENT,
            )
        if code in _CREDENTIAL_CODES:
            return HookError(
                f"AWS {op} refused: {code}: {message}; the instance role (or the credentials in "
                "use) must allow it: see hooks/permissions.py",
                EXIT_ENVIRONMENT,
            )
        if code.isdigit():
            # botocore reports an HTML 5xx page from something in front of AWS this way.
            return HookError(
                f"AWS {op} answered HTTP {code} {message}: the endpoint or a proxy in front of "
                "it is failing; check AWS_ENDPOINT_URL and HTTPS_PROXY/NO_PROXY, then retry",
                EXIT_ENVIRONMENT,
            )
        return HookError(f"AWS {op} failed: {code}: {message}", EXIT_FAILED)
    if "ResponseParserError" in names or _raised_in_parser(error):
        body = one_line(str(error).split("\n", 1)[-1], _SNIPPET)
        if not isinstance(error, Exception) or "ResponseParserError" not in names:
            body = f"botocore could not read it: {type(error).__name__}: {one_line(error, 80)}"
        return HookError(
            f"{what} got an answer that is not an AWS response ({body}); something other than "
            "AWS answers at the endpoint (a proxy, a captive portal, a wrong AWS_ENDPOINT_URL): "
            "check AWS_ENDPOINT_URL and HTTPS_PROXY/NO_PROXY",
            EXIT_ENVIRONMENT,
        )
    if names & set(_CREDENTIAL_ERRORS):
        return HookError(
            f"{what}: {one_line(error)}; on EC2 attach the instance profile with the hooks' "
            "role, elsewhere set AWS credentials",
            EXIT_ENVIRONMENT,
        )
    if names & set(_CONNECTION_ERRORS):
        return HookError(
            f"{what}: {one_line(error)}; check the network, the region, AWS_ENDPOINT_URL and "
            "HTTPS_PROXY/NO_PROXY",
            EXIT_ENVIRONMENT,
        )
    return HookError(f"{what} failed: {one_line(error)}", EXIT_FAILED)


def classified(error: HookError) -> HookError:
    """`error`, told again from its cause when a step wrapped a botocore error (`step NAME: AWS
    Op failed: ...`) or an OSError as a plain failure (exit 1): the cause decides the code (and
    for AWS the message)."""
    cause = error.__cause__
    if error.exit_code != EXIT_FAILED or cause is None:
        return error
    if isinstance(cause, OSError) and not is_aws_error(cause):
        # A folder the hook cannot write, a disk that is full: the instance, not the group.
        better = HookError(str(error), EXIT_ENVIRONMENT)
        better.__cause__ = cause
        return better
    if not is_aws_error(cause):
        return error
    text = str(error)
    step = text.split(": ", 1)[0] + ": " if text.startswith("step ") else ""
    better = HookError(step + str(aws_error(cause)), aws_error(cause).exit_code)
    better.__cause__ = cause
    return better
