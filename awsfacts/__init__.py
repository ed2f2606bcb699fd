"""Facts about AWS as data: limits, EC2 instance types, CodeDeploy configs, Pulumi type tokens
(awsfacts/README.md)."""
