"""DynamoDB tables. `aws_dynamodb.Table` (AWS::DynamoDB::Table), not TableV2: the local runtime deploys
this template into moto, which has no AWS::DynamoDB::GlobalTable."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.naming import TABLE_IDS, table_construct_id

S = ddb.AttributeType.STRING

# Narrower than Table.grant_read_data/grant_read_write_data: no Scan (no access pattern scans a
# table), no stream reads, no DescribeTable. Transactions need the per-item actions below.
READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem")
WRITE_ACTIONS = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")


@dataclass(frozen=True)
class Gsi:
    name: str
    pk: str
    sk: str
    projection: ddb.ProjectionType = ddb.ProjectionType.ALL


@dataclass(frozen=True)
class TableDesign:
    pk: str = "pk"
    sk: str | None = "sk"
    ttl: str | None = None
    gsis: Sequence[Gsi] = field(default_factory=tuple)


DESIGNS: dict[str, TableDesign] = {
    "Contacts": TableDesign(
        ttl="expires_at",
        # waiting: one queue's waiting contacts; waiting_tenant: the tenant's, for a freed agent's whole
        # routing profile in one Query (one more index write per waiting transition, one read per decision).
        # customer: keys only (its one reader, the customer's journey, gets the contacts by key): an index of
        # whole items is rewritten on every write of a contact that has a customer, its keys never change.
        gsis=(Gsi("waiting", "wait_pk", "wait_sk"), Gsi("waiting_tenant", "twait_pk", "wait_sk"),
              Gsi("customer", "cust_pk", "cust_sk", ddb.ProjectionType.KEYS_ONLY)),
    ),
    "Agents": TableDesign(gsis=(Gsi("available", "avail_pk", "avail_sk"),)),
    "Config": TableDesign(),
    "Metrics": TableDesign(ttl="expires_at"),
    # Powertools idempotency's default schema: partition key "id", TTL "expiration".
    "Idempotency": TableDesign(pk="id", sk=None, ttl="expiration"),
    # Supervisor alerts, their one-unresolved-per-(rule, subject) slots, live-transcript rule state. Sparse GSI
    # `resolved`: resolved alerts only (resolved_pk is written as one resolves), newest first, for ?status=resolved.
    "Alerts": TableDesign(ttl="expires_at", gsis=(Gsi("resolved", "resolved_pk", "sk"),)),
    # Contact history (adapters/aws/history.py): one item collection per contact; by_day feeds KPI and
    # search reads by time range, by_customer the repeat-contact (FCR) flags.
    "History": TableDesign(gsis=(Gsi("by_day", "day_pk", "day_sk"), Gsi("by_customer", "cust_pk", "cust_sk"))),
    # The customer directory (adapters/aws/customers.py): a customer item and one lookup item per phone
    # number / e-mail address, written together in one transaction.
    "Customers": TableDesign(),
    # Open WebSocket connections (adapters/aws/push.py): pk tenant, sk CONN#<id>, TTL 2 h; `audience`
    # finds an agent's connections (<tenant>#AGENT#<agent>) or a tenant's watchers (<tenant>#WATCH) in one Query.
    "Connections": TableDesign(ttl="expires_at", gsis=(Gsi("audience", "aud_pk", "aud_sk"),)),
    # Outbound campaigns (adapters/aws/outbound.py, single table): campaigns, list rows, attempts with their
    # checks, suppressions, consents, per-day counters (TTL). Sparse GSIs: `due` (a campaign's due rows,
    # earliest first: no scan of a million-row list), `running` (the dialer sweep), `by_campaign` (audit
    # export), `by_account` / `by_number` (Reg F's rolling 7 days).
    "Outbound": TableDesign(ttl="expires_at", gsis=(
        Gsi("due", "due_pk", "due_sk"), Gsi("running", "run_pk", "run_sk", ddb.ProjectionType.KEYS_ONLY),
        Gsi("by_campaign", "camp_pk", "camp_sk"), Gsi("by_account", "acct_pk", "acct_sk"),
        Gsi("by_number", "num_pk", "num_sk"),
    )),
}
assert tuple(DESIGNS) == TABLE_IDS, "infra.naming.TABLE_IDS and data.DESIGNS disagree"


class Data(Construct):
    """`self.tables[<table id>]`, e.g. self.tables["Contacts"]."""

    def __init__(self, scope: Construct, construct_id: str, *, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, construct_id)
        self.tables: dict[str, ddb.Table] = {}
        for table_id, design in DESIGNS.items():
            table = ddb.Table(
                self,
                table_construct_id(table_id),
                partition_key=ddb.Attribute(name=design.pk, type=S),
                sort_key=ddb.Attribute(name=design.sk, type=S) if design.sk else None,
                billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
                point_in_time_recovery_specification=ddb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                encryption=ddb.TableEncryption.AWS_MANAGED,
                time_to_live_attribute=design.ttl,
                removal_policy=removal_policy,
            )
            for gsi in design.gsis:
                table.add_global_secondary_index(
                    index_name=gsi.name,
                    partition_key=ddb.Attribute(name=gsi.pk, type=S),
                    sort_key=ddb.Attribute(name=gsi.sk, type=S),
                    projection_type=gsi.projection,
                )
            self.tables[table_id] = table

    def grant(self, table_id: str, grantee: iam.IGrantable, *, write: bool) -> None:
        """Item reads (+ writes) on the table, and Query on each of its GSIs by name (no index/*)."""
        table, design = self.tables[table_id], DESIGNS[table_id]
        actions = READ_ACTIONS + (WRITE_ACTIONS if write else ())
        iam.Grant.add_to_principal(grantee=grantee, actions=list(actions), resource_arns=[table.table_arn])
        if design.gsis:
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=["dynamodb:Query"],
                resource_arns=[f"{table.table_arn}/index/{gsi.name}" for gsi in design.gsis],
            )
