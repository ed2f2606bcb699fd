"""The Pulumi program offline: evaluated under Pulumi mocks, with the policy pack's rules and a
Terraform plan for IaC scanners (preview/README.md)."""
