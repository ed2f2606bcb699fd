"""CrossGuard adapters: each rule of `policy.rules` as a mandatory stack validation policy."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.rules import (
    DEFAULT_DEREGISTER_TIMEOUT,
    DEFAULT_REGISTER_TIMEOUT,
    RULES,
    Resource,
    Settings,
    Stack,
)

CONFIG = PolicyConfigSchema(
    properties={
        "deregisterTimeout": {
            "type": "integer",
            "default": DEFAULT_DEREGISTER_TIMEOUT,
            "description": "The deregister hook's timeout in appspec.yml, in seconds.",
        },
        "registerTimeout": {
            "type": "integer",
            "default": DEFAULT_REGISTER_TIMEOUT,
            "description": "The register hook's timeout in appspec.yml, in seconds.",
        },
    }
)


def _resources(args: StackValidationArgs) -> list[Resource]:
    return [
        Resource(
            type=r.resource_type,
            name=r.name,
            props=r.props,
            refs={
                prop: tuple(d.urn for d in deps) for prop, deps in r.property_dependencies.items()
            },
            urn=r.urn,
        )
        for r in args.resources
    ]


def stack_policy(name: str) -> StackValidationPolicy:
    rule = RULES[name]

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        config = args.get_config()
        settings = Settings(
            deregister_timeout=int(config.get("deregisterTimeout", DEFAULT_DEREGISTER_TIMEOUT)),
            register_timeout=int(config.get("registerTimeout", DEFAULT_REGISTER_TIMEOUT)),
        )
        for violation in rule(Stack(_resources(args)), settings):
            report_violation(f"{violation.resource}: {violation.message}", None)

    return StackValidationPolicy(
        name=name,
        description=(rule.__doc__ or name).strip(),
        validate=validate,
        config_schema=CONFIG,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


def policies() -> list[StackValidationPolicy]:
    return [stack_policy(name) for name in RULES]
