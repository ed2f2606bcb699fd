"""Certificate: an ACM certificate the stack requests and validates by DNS in Route 53."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from stack.load import CertificateRequest

# Validation records are CNAMEs ACM polls; a short TTL lets a re-issued record take over fast.
VALIDATION_RECORD_TTL = 300


@dataclass
class CertificateArgs:
    request: CertificateRequest
    tags: dict[str, str] = field(default_factory=dict)


class Certificate(pulumi.ComponentResource):
    """An ACM certificate for ``domainName`` (and its alternative names), one DNS validation
    record per name in the configured hosted zone, and the validation that waits until ACM has
    issued it. ``arn`` resolves only once the certificate is issued, so a listener that uses it
    is never created with a pending certificate."""

    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: CertificateArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("cutover:certificate:Certificate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        request = args.request
        certificate = aws.acm.Certificate(
            name,
            domain_name=request.domain_name,
            subject_alternative_names=list(request.alternative_names) or None,
            validation_method="DNS",
            key_algorithm="RSA_2048",
            options={"certificate_transparency_logging_preference": "ENABLED"},
            tags={**args.tags, "Name": name},
            opts=child,
        )
        records = []
        # One record per name, known before deployment (a record created inside an apply would
        # not show in a preview). A wildcard and its base name share one record:
        # allow_overwrite lets the second write the same value.
        for i, domain in enumerate(
            dict.fromkeys([request.domain_name, *request.alternative_names])
        ):
            option = certificate.domain_validation_options.apply(
                lambda options, domain=domain: _option_for(options, domain)
            )
            records.append(
                aws.route53.Record(
                    f"{name}-validation-{i}",
                    zone_id=request.zone_id,
                    name=option.apply(lambda o: o.resource_record_name),
                    type=option.apply(lambda o: o.resource_record_type),
                    records=[option.apply(lambda o: o.resource_record_value)],
                    ttl=VALIDATION_RECORD_TTL,
                    allow_overwrite=True,
                    opts=child,
                )
            )
        validation = aws.acm.CertificateValidation(
            name,
            certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn for record in records],
            opts=child,
        )
        self.arn = validation.certificate_arn
        self.register_outputs({"arn": self.arn})


def _option_for(
    options: list[aws.acm.outputs.CertificateDomainValidationOption], domain: str
) -> aws.acm.outputs.CertificateDomainValidationOption:
    """The DNS validation record ACM asks for ``domain``."""
    for option in options or []:
        if option.domain_name == domain:
            return option
    raise ValueError(f"ACM returned no DNS validation option for {domain}")
