"""Database: RDS PostgreSQL in the private subnets, reachable only from the instances."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.config import DatabaseConfig


@dataclass
class DatabaseArgs:
    database: DatabaseConfig
    subnet_ids: list[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    production: bool
    tags: dict[str, str] = field(default_factory=dict)


class Database(pulumi.ComponentResource):
    """Encrypted, private PostgreSQL. RDS generates the master password and keeps it in Secrets
    Manager (``manage_master_user_password``): no password in config or state."""

    endpoint: pulumi.Output[str]
    secret_arn: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cutover:database:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        db = args.database
        subnets = aws.rds.SubnetGroup(
            f"{name}-subnets",
            subnet_ids=args.subnet_ids,
            description="Cutover database: private subnets",
            tags={**args.tags, "Name": f"{name}-subnets"},
            opts=child,
        )
        instance = aws.rds.Instance(
            name,
            engine="postgres",
            engine_version=db.engine_version,
            instance_class=db.instance_class,
            allocated_storage=db.allocated_storage,
            storage_type="gp3",
            storage_encrypted=True,
            db_name=db.db_name,
            username=db.username,
            manage_master_user_password=True,
            port=db.port,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[args.security_group_id],
            publicly_accessible=False,
            multi_az=db.multi_az,
            backup_retention_period=db.backup_retention_days,
            deletion_protection=db.deletion_protection,
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            skip_final_snapshot=not args.production,
            final_snapshot_identifier=f"{name}-final" if args.production else None,
            tags={**args.tags, "Name": name},
            opts=child,
        )
        self.endpoint = instance.endpoint
        self.secret_arn = instance.master_user_secrets.apply(
            lambda secrets: secrets[0].secret_arn if secrets else ""
        )
        self.register_outputs({"endpoint": self.endpoint, "secretArn": self.secret_arn})
