"""The analytics lake on AWS (issue 19): Parquet on S3, a Glue catalog, Firehose delivery, Athena.

- One KMS-encrypted bucket (key rotation, block public access, SSL only, server access logs to a log
  bucket), objects `<table>/tenant_id=<t>/day=<YYYY-MM-DD>/…` so a tenant role's IAM policy can be
  scoped to `*/tenant_id=<t>/*`; lifecycle: Glacier Instant Retrieval after `glacier_after_days`.
- A Glue database and one table per `ccaas.domain.lake.TABLES` entry (the same declaration the local
  exporter writes from), Parquet, with partition projection (tenant_id injected: every query must
  bind its tenant; day a date range) so no crawler or MSCK REPAIR is needed.
- A Firehose delivery stream from the contact-events Kinesis stream: record format conversion to
  Parquet with the Glue `contact_events` schema, dynamic partitioning by tenant and (UTC) day with a
  JQ metadata extraction, failed records under `errors/` (alarmed by Firehose's own metrics).
- An Athena workgroup whose results are KMS-encrypted in the bucket, its configuration enforced.

- A Direct PUT delivery stream per table a writer function delivers (`streams`, DIRECT_PUT_TABLES: one
  Glue schema per stream), built by one loop: contact_records (the History writers put a snapshot of each
  changed entry: ccaas.usecases.lake.export_contacts, the latest record with survey answers, flags and
  evaluation joined in, stamped `exported_at`; again after an evaluation override or re-analysis),
  agent_activity (record_agent_activity: each span an agent event closes), surveys (the API: the answers,
  never the comment) and transcript_analyses (analyze_contact and the API: summaries only, never text).
  Each converts JSON to Parquet with its Glue table's schema and partitions by the row's own tenant_id
  and tenant-local day. Late corrections (a newer CTR version, a late survey, an override) are appended
  to their day; the API's query reads the latest snapshot of each contact and each activity span once
  (ccaas.domain.lake.kpi_query), so no partition rewrite is needed on AWS (a periodic compaction of
  small files is future work). `grant_export(fn, tables)`: PutRecordBatch on those tables' streams only,
  and their names in the variables ccaas.adapters.aws.lake reads (STREAMS_ENV).
- Why Firehose rather than a function writing Parquet: the Lambda layer has no Parquet writer (pyarrow
  is ~130 MB unpacked), and Firehose buffers, converts, partitions and retries for us; per 1,000 contacts
  it costs about $0.0003 (bench/bench_lake.py: export cost).
- Failures are never silent: a record the service refuses is retried by the writer and then fails its
  caller (retried, dead-lettered); a record Firehose cannot convert or deliver after its retries lands
  under `errors/<stream>/…`, and alarms (`alarms`) fire on failed conversions, failed S3 deliveries and
  stale data for every stream.
- Analysts per tenant (`analyst_tenants`, CDK context `lake_analyst_tenants`): a managed policy and an
  Athena workgroup each; the policy reads only `<table>/tenant_id=<t>/*`, lists only those prefixes,
  decrypts through S3, reads the catalog, and queries in that tenant's workgroup, whose results stay
  under `athena-results/tenant_id=<t>/` (KMS, enforced). The policy ARNs are stack outputs.
- `lake_intervals` and `tenant_settings` (JSON_TABLES) are JSON lines tables (OpenX JSON SerDe) that the API
  function writes itself before a query (ccaas.usecases.lake_reference): the tenant's calendar per local
  day and its settings; `grant_reference(fn)`: PutObject/ListBucket on those two prefixes only.
- `grant_query(fn)`: what the API function needs to run the KPI query on Athena (the workgroup, the
  catalog, the bucket, the key), with LAKE_WORKGROUP and LAKE_DATABASE in its environment.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from aws_cdk import Aws, CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ccaas.adapters.aws.lake import STREAMS_ENV
from ccaas.adapters.aws.lake_reference import BUCKET_ENV
from ccaas.domain.lake import TABLES, Table
from ccaas.domain.tenants import TENANT_ID_PATTERN
from infra import nag

DATABASE = "ccaas_lake"
FIRST_DAY = "2025-01-01"  # start of the day partition projection range
# The tables writer functions deliver through a Direct PUT stream each (one Glue schema per stream), with
# the variable the AWS adapter reads (ccaas.adapters.aws.lake.STREAMS_ENV, the one map of both).
DIRECT_PUT_TABLES: tuple[str, ...] = tuple(STREAMS_ENV)


def analyst_tenants(value: object) -> tuple[str, ...]:
    """CDK context `lake_analyst_tenants`: tenant ids, comma-separated (or a list in cdk.json), each
    matching the project's tenant-id pattern; an empty value is none. Raises ValueError naming the bad one."""
    if value is None or value == "":
        return ()
    items = value.split(",") if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else None
    if items is None:
        raise ValueError(f"lake_analyst_tenants: expected comma-separated tenant ids, got {value!r}")
    tenants = []
    for item in items:
        tenant = str(item).strip()
        if not re.match(TENANT_ID_PATTERN, tenant):
            raise ValueError(f"lake_analyst_tenants: {tenant!r} is not a tenant id ({TENANT_ID_PATTERN})")
        tenants.append(tenant)
    return tuple(dict.fromkeys(tenants))


def _pascal(name: str) -> str:
    return name.title().replace("_", "").replace("-", "")


# Formats of the Glue tables: Parquet (Firehose converts to it), or JSON lines for the reference tables the
# API function writes itself before a query (ccaas.adapters.aws.lake_reference: the layer has no Parquet
# writer, and a day's calendar is 96 rows). Partition projection works alike for both (Athena reads the
# partition's location from the template whatever the SerDe; AWS's own Route 53 Resolver logs example
# pairs the OpenX JSON SerDe with a projected date partition).
JSON_TABLES: tuple[str, ...] = ("lake_intervals", "tenant_settings")
_FORMATS: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "parquet": ("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe", {}),
    # A malformed line fails the query (never silently read as NULLs); keys match columns exactly.
    "json": ("org.apache.hadoop.mapred.TextInputFormat",
             "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
             "org.openx.data.jsonserde.JsonSerDe",
             {"ignore.malformed.json": "FALSE", "case.insensitive": "FALSE"}),
}


def table_format(table: Table) -> str:
    return "json" if table.name in JSON_TABLES else "parquet"


def glue_table_input(table: Table, bucket_name: str, database: str = DATABASE) -> glue.CfnTable.TableInputProperty:
    """The Glue table of one lake table: Parquet (JSON lines for JSON_TABLES), partition projection on
    tenant_id (injected) and day."""
    location = f"s3://{bucket_name}/{table.name}/"
    template = location + "/".join(f"{p}=${{{p}}}" for p in table.partition_by) + "/"
    kind = table_format(table)
    input_format, output_format, serde, serde_parameters = _FORMATS[kind]
    parameters = {
        "classification": kind,
        "projection.enabled": "true",
        "projection.tenant_id.type": "injected",
        "storage.location.template": template,
    }
    if "day" in table.partition_by:
        parameters.update({
            "projection.day.type": "date",
            "projection.day.format": "yyyy-MM-dd",
            "projection.day.range": f"{FIRST_DAY},NOW",
            "projection.day.interval": "1",
            "projection.day.interval.unit": "DAYS",
        })
    return glue.CfnTable.TableInputProperty(
        name=table.name,
        description=table.description[:2048],
        table_type="EXTERNAL_TABLE",
        parameters=parameters,
        partition_keys=[glue.CfnTable.ColumnProperty(name=p, type="string") for p in table.partition_by],
        storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
            location=location,
            input_format=input_format,
            output_format=output_format,
            serde_info=glue.CfnTable.SerdeInfoProperty(serialization_library=serde,
                                                       parameters=dict(serde_parameters) or None),
            columns=[glue.CfnTable.ColumnProperty(name=c.name, type=c.glue_type) for c in table.columns],
        ),
    )


class Lake(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        events_stream: kinesis.IStream,
        removal_policy: RemovalPolicy,
        glacier_after_days: int = 90,
        alarm_action: cloudwatch.IAlarmAction | None = None,
        analyst_tenants: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        auto_delete = removal_policy is RemovalPolicy.DESTROY
        self.key = kms.Key(self, "Key", enable_key_rotation=True, removal_policy=removal_policy,
                           description="Analytics lake: Parquet objects and Athena results")
        self.access_logs = s3.Bucket(
            self, "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # the log delivery service cannot use a KMS key
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            removal_policy=removal_policy,
            auto_delete_objects=auto_delete,
        )
        self.bucket = s3.Bucket(
            self, "Bucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=False,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="lake/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="glacier-ir",
                    transitions=[s3.Transition(storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                                                transition_after=Duration.days(glacier_after_days))],
                ),
                s3.LifecycleRule(id="athena-results", prefix="athena-results/", expiration=Duration.days(30)),
                s3.LifecycleRule(id="delivery-errors", prefix="errors/", expiration=Duration.days(90)),
            ],
            removal_policy=removal_policy,
            auto_delete_objects=auto_delete,
        )
        # Log delivery by bucket policy, not the deprecated LogDeliveryWrite ACL CDK would set.
        self.access_logs.node.default_child.add_property_deletion_override("AccessControl")  # type: ignore[union-attr]
        self.access_logs.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=[self.access_logs.arn_for_objects("lake/*")],
            conditions={"ArnLike": {"aws:SourceArn": self.bucket.bucket_arn},
                        "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
        ))

        self.database = glue.CfnDatabase(
            self, "Database", catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=DATABASE, description="Contact-center analytics lake (Parquet, partitioned by tenant and day)"),
        )
        self.tables: dict[str, glue.CfnTable] = {}
        for table in TABLES.values():
            cfn = glue.CfnTable(self, f"Table{table.name.title().replace('_', '')}", catalog_id=Aws.ACCOUNT_ID,
                                database_name=DATABASE,
                                table_input=glue_table_input(table, self.bucket.bucket_name))
            cfn.node.add_dependency(self.database)
            self.tables[table.name] = cfn

        self.delivery_log_group = logs.LogGroup(self, "DeliveryLogs", retention=logs.RetentionDays.ONE_MONTH,
                                                removal_policy=removal_policy)
        log_stream = logs.LogStream(self, "DeliveryLogStream", log_group=self.delivery_log_group,
                                    removal_policy=removal_policy)
        role = iam.Role(self, "DeliveryRole", assumed_by=iam.ServicePrincipal("firehose.amazonaws.com"),
                        description="Firehose: read the events stream, convert with Glue, write Parquet to the lake")
        self.bucket.grant_read_write(role)
        self.key.grant_encrypt_decrypt(role)
        events_stream.grant_read(role)
        self.delivery_log_group.grant_write(role)
        table_arns = [Stack.of(self).format_arn(service="glue", resource="table", resource_name=f"{DATABASE}/{name}")
                      for name in ("contact_events", *DIRECT_PUT_TABLES)]
        role.add_to_policy(iam.PolicyStatement(
            actions=["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
            resources=[Stack.of(self).format_arn(service="glue", resource="catalog"),
                       Stack.of(self).format_arn(service="glue", resource="database", resource_name=DATABASE),
                       *table_arns],
        ))
        nag.acknowledge(role.node.find_child("DefaultPolicy"), "AwsSolutions-IAM5",
                        "Firehose writes objects under dynamic tenant/day prefixes of the lake bucket, and the "
                        "S3/KMS grants use CDK's action groups (s3:Abort*, kms:ReEncrypt*, kms:GenerateDataKey*)",
                        findings=["Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*",
                                  "Action::s3:DeleteObject*", "Action::s3:Abort*",
                                  f"Resource::<{_logical(self.bucket)}.Arn>/*",
                                  "Action::kms:ReEncrypt*", "Action::kms:GenerateDataKey*"])

        def parquet_destination(table: str, extraction_query: str, retry_s: int):
            """Into <table>/tenant_id=/day=/ as Parquet (the Glue table's schema), partitioned by the
            record's own values; failed records under errors/<table>/."""
            return firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
                bucket_arn=self.bucket.bucket_arn,
                role_arn=role.role_arn,
                prefix=f"{table}/tenant_id=!{{partitionKeyFromQuery:tenant_id}}/day=!{{partitionKeyFromQuery:day}}/",
                error_output_prefix=f"errors/{table}/!{{firehose:error-output-type}}/!{{timestamp:yyyy-MM-dd}}/",
                buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(interval_in_seconds=300,
                                                                                  size_in_m_bs=128),
                encryption_configuration=firehose.CfnDeliveryStream.EncryptionConfigurationProperty(
                    kms_encryption_config=firehose.CfnDeliveryStream.KMSEncryptionConfigProperty(
                        awskms_key_arn=self.key.key_arn)),
                cloud_watch_logging_options=firehose.CfnDeliveryStream.CloudWatchLoggingOptionsProperty(
                    enabled=True, log_group_name=self.delivery_log_group.log_group_name,
                    log_stream_name=log_stream.log_stream_name),
                dynamic_partitioning_configuration=firehose.CfnDeliveryStream.DynamicPartitioningConfigurationProperty(
                    enabled=True,
                    retry_options=firehose.CfnDeliveryStream.RetryOptionsProperty(duration_in_seconds=retry_s)),
                processing_configuration=firehose.CfnDeliveryStream.ProcessingConfigurationProperty(
                    enabled=True,
                    processors=[firehose.CfnDeliveryStream.ProcessorProperty(
                        type="MetadataExtraction",
                        parameters=[
                            firehose.CfnDeliveryStream.ProcessorParameterProperty(
                                parameter_name="MetadataExtractionQuery", parameter_value=extraction_query),
                            firehose.CfnDeliveryStream.ProcessorParameterProperty(
                                parameter_name="JsonParsingEngine", parameter_value="JQ-1.6"),
                        ],
                    )],
                ),
                data_format_conversion_configuration=firehose.CfnDeliveryStream.DataFormatConversionConfigurationProperty(
                    enabled=True,
                    input_format_configuration=firehose.CfnDeliveryStream.InputFormatConfigurationProperty(
                        deserializer=firehose.CfnDeliveryStream.DeserializerProperty(
                            open_x_json_ser_de=firehose.CfnDeliveryStream.OpenXJsonSerDeProperty())),
                    output_format_configuration=firehose.CfnDeliveryStream.OutputFormatConfigurationProperty(
                        serializer=firehose.CfnDeliveryStream.SerializerProperty(
                            parquet_ser_de=firehose.CfnDeliveryStream.ParquetSerDeProperty(compression="SNAPPY"))),
                    schema_configuration=firehose.CfnDeliveryStream.SchemaConfigurationProperty(
                        catalog_id=Aws.ACCOUNT_ID, database_name=DATABASE, table_name=table,
                        region=Aws.REGION, role_arn=role.role_arn, version_id="LATEST"),
                ),
            )

        self.delivery = firehose.CfnDeliveryStream(
            self, "EventsDelivery",
            delivery_stream_type="KinesisStreamAsSource",
            kinesis_stream_source_configuration=firehose.CfnDeliveryStream.KinesisStreamSourceConfigurationProperty(
                kinesis_stream_arn=events_stream.stream_arn, role_arn=role.role_arn),
            extended_s3_destination_configuration=parquet_destination(
                "contact_events", "{tenant_id: .tenant_id, day: .occurred_at[0:10]}", retry_s=300),
        )
        self.delivery.node.add_dependency(role)
        self.delivery.node.add_dependency(self.tables["contact_events"])
        nag.acknowledge(self.delivery, "AwsSolutions-KDF1",
                        "A Kinesis-stream-sourced delivery stream cannot take server-side encryption; its source "
                        "stream and its S3 destination (KMS key) are both encrypted")

        # One Direct PUT stream per table a writer function delivers (ccaas.usecases.lake's export_*): the
        # row's own tenant_id and day (the exporter's tenant-local day) partition it.
        self.streams: dict[str, firehose.CfnDeliveryStream] = {}
        for table in DIRECT_PUT_TABLES:
            stream = firehose.CfnDeliveryStream(
                self, f"{_pascal(table)}Delivery",
                delivery_stream_type="DirectPut",
                delivery_stream_encryption_configuration_input=firehose.CfnDeliveryStream
                .DeliveryStreamEncryptionConfigurationInputProperty(key_type="AWS_OWNED_CMK"),
                extended_s3_destination_configuration=parquet_destination(
                    table, "{tenant_id: .tenant_id, day: .day}", retry_s=900),
            )
            stream.node.add_dependency(role)
            stream.node.add_dependency(self.tables[table])
            self.streams[table] = stream
        self.records_delivery = self.streams["contact_records"]

        self.alarms: list[cloudwatch.Alarm] = []
        for stream_id, stream in (("Events", self.delivery),
                                  *((_pascal(t), s) for t, s in self.streams.items())):
            self._delivery_alarms(stream_id, stream, alarm_action)

        self.workgroup = self._workgroup(self, f"{Stack.of(self).stack_name}-lake", "athena-results/", auto_delete)

        # Per tenant, for its analysts' roles: a managed policy that reads only that tenant's prefixes,
        # and a workgroup of its own whose results stay under that tenant's prefix.
        self.analyst_policies: dict[str, iam.ManagedPolicy] = {}
        self.analyst_workgroups: dict[str, athena.CfnWorkGroup] = {}
        for tenant_id in analyst_tenants:
            self._analyst_access(tenant_id, auto_delete)


    def _workgroup(self, scope: Construct, name: str, results_prefix: str, auto_delete: bool | None,
                   description: str | None = None) -> athena.CfnWorkGroup:
        """An Athena workgroup (engine version 3) whose enforced settings put KMS-encrypted results under
        `results_prefix` of the lake bucket and stop a query past 200 GB scanned."""
        return athena.CfnWorkGroup(
            scope, "WorkGroup", name=name, state="ENABLED", description=description,
            recursive_delete_option=auto_delete,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=200 * 1024**3,
                # version 3: the queries reuse a result up to 15 minutes old (ccaas.adapters.aws.lake)
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(selected_engine_version="Athena engine version 3"),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.bucket.bucket_name}/{results_prefix}",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=self.key.key_arn)),
            ),
        )

    def _delivery_alarms(self, stream_id: str, stream: firehose.CfnDeliveryStream,
                         action: cloudwatch.IAlarmAction | None) -> None:
        """Failed conversions, failed S3 deliveries (records then go to errors/ after Firehose's retries)
        and data older than three buffer intervals: each an alarm, never a silent skip."""
        def metric(name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(namespace="AWS/Firehose", metric_name=name, statistic=statistic,
                                     period=Duration.minutes(5),
                                     dimensions_map={"DeliveryStreamName": stream.ref})

        for alarm_id, name, statistic, comparison, threshold, description in (
            ("FailedConversion", "FailedConversion.Records", "Sum",
             cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, 0,
             "records Firehose could not convert to Parquet (written under errors/format-conversion-failed)"),
            ("DeliveryFailed", "DeliveryToS3.Success", "Minimum",
             cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD, 1,
             "S3 deliveries failing (after retries records are written under errors/)"),
            ("Stale", "DeliveryToS3.DataFreshness", "Maximum",
             cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, 900,
             "the oldest record waiting for delivery is over 15 minutes old"),
        ):
            alarm = cloudwatch.Alarm(
                self, f"{stream_id}{alarm_id}Alarm", metric=metric(name, statistic), threshold=threshold,
                evaluation_periods=1, comparison_operator=comparison,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"Lake {stream_id.lower()} delivery: {description}",
            )
            if action is not None:
                alarm.add_alarm_action(action)
            self.alarms.append(alarm)

    def _analyst_access(self, tenant_id: str, auto_delete: bool) -> None:
        """One tenant's analysts: a workgroup (results under athena-results/tenant_id=<t>/, KMS-encrypted,
        configuration enforced) and a managed policy allowing only: objects under <table>/tenant_id=<t>/
        of every lake table, listing those prefixes, the key through S3, the catalog's reads, and queries
        in that workgroup. Another tenant's prefix is never named, so it is never allowed."""
        if not re.match(TENANT_ID_PATTERN, tenant_id):
            raise ValueError(f"not a tenant id: {tenant_id!r}")
        stack = Stack.of(self)
        scope = Construct(self, f"Analyst-{tenant_id}")
        results = f"athena-results/tenant_id={tenant_id}/"
        workgroup = self._workgroup(scope, f"{stack.stack_name}-lake-{tenant_id}", results, auto_delete,
                                    description=f"Lake queries of tenant {tenant_id}'s analysts")
        prefixes = [f"{table}/tenant_id={tenant_id}/" for table in TABLES]
        policy = iam.ManagedPolicy(
            scope, "Policy",
            description=f"Analytics lake: read tenant {tenant_id}'s tables with Athena (its workgroup only)",
            statements=[
                iam.PolicyStatement(sid="ReadTenantObjects", actions=["s3:GetObject"],
                                    resources=[self.bucket.arn_for_objects(f"{p}*") for p in prefixes]),
                iam.PolicyStatement(sid="ListTenantPrefixes", actions=["s3:ListBucket"],
                                    resources=[self.bucket.bucket_arn],
                                    conditions={"StringLike": {"s3:prefix": [f"{p}*" for p in (*prefixes, results)]}}),
                iam.PolicyStatement(sid="LocateBucket", actions=["s3:GetBucketLocation"],
                                    resources=[self.bucket.bucket_arn]),
                iam.PolicyStatement(sid="TenantQueryResults",
                                    actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                                    resources=[self.bucket.arn_for_objects(f"{results}*")]),
                iam.PolicyStatement(sid="LakeKeyThroughS3", actions=["kms:Decrypt", "kms:GenerateDataKey"],
                                    resources=[self.key.key_arn],
                                    conditions={"StringEquals": {"kms:ViaService": f"s3.{Aws.REGION}.amazonaws.com"}}),
                iam.PolicyStatement(sid="LakeCatalog", actions=["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
                                    resources=[stack.format_arn(service="glue", resource="catalog"),
                                               stack.format_arn(service="glue", resource="database",
                                                                resource_name=DATABASE),
                                               *(stack.format_arn(service="glue", resource="table",
                                                                  resource_name=f"{DATABASE}/{name}")
                                                 for name in TABLES)]),
                iam.PolicyStatement(sid="TenantWorkGroup",
                                    actions=["athena:StartQueryExecution", "athena:GetQueryExecution",
                                             "athena:GetQueryResults", "athena:StopQueryExecution",
                                             "athena:GetWorkGroup"],
                                    resources=[stack.format_arn(service="athena", resource="workgroup",
                                                                resource_name=workgroup.ref)]),
            ],
        )
        nag.acknowledge(policy, "AwsSolutions-IAM5",
                        f"Tenant {tenant_id}'s analysts read the objects under that tenant's own prefix of each "
                        f"lake table (Firehose names the objects under tenant_id=/day=) and their own query "
                        f"results; no other tenant's prefix is named",
                        findings=[f"Resource::<{_logical(self.bucket)}.Arn>/{p}*" for p in (*prefixes, results)])
        CfnOutput(scope, "PolicyArn", value=policy.managed_policy_arn,
                  description=f"Managed policy for tenant {tenant_id}'s lake analysts (attach to their role)")
        CfnOutput(scope, "WorkGroupName", value=workgroup.ref,
                  description=f"Athena workgroup of tenant {tenant_id}'s lake analysts")
        self.analyst_policies[tenant_id] = policy
        self.analyst_workgroups[tenant_id] = workgroup

    def grant_export(self, fn: lambda_.Function, tables: Iterable[str] = ("contact_records",)) -> None:
        """A writer function puts rows of `tables` to their delivery streams: PutRecordBatch (what
        FirehoseLakeExport calls) on those streams only, and each stream's name in the variable the
        adapter reads (STREAMS_ENV)."""
        tables = tuple(dict.fromkeys(tables))
        unknown = [t for t in tables if t not in self.streams]
        if unknown or not tables:
            raise ValueError(f"no lake delivery stream for {unknown or 'no tables'}; streams: {sorted(self.streams)}")
        iam.Policy(fn.node.scope, "LakeExportPolicy", roles=[fn.role], statements=[iam.PolicyStatement(
            actions=["firehose:PutRecordBatch"],
            resources=[self.streams[t].attr_arn for t in tables],
        )])
        for table in tables:
            fn.add_environment(STREAMS_ENV[table], self.streams[table].ref)

    def grant_query(self, fn: lambda_.Function) -> None:
        """The API function runs the lake's KPI query in the workgroup (Athena reads the tables and writes
        the results with the caller's permissions) and reads its results; in a policy of its own."""
        stack = Stack.of(self)
        policy = iam.Policy(fn.node.scope, "LakeQueryPolicy", roles=[fn.role], statements=[
            iam.PolicyStatement(
                actions=["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults",
                         "athena:StopQueryExecution"],
                resources=[stack.format_arn(service="athena", resource="workgroup", resource_name=self.workgroup.ref)],
            ),
            iam.PolicyStatement(
                actions=["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions"],
                resources=[stack.format_arn(service="glue", resource="catalog"),
                           stack.format_arn(service="glue", resource="database", resource_name=DATABASE),
                           *(stack.format_arn(service="glue", resource="table", resource_name=f"{DATABASE}/{name}")
                             for name in TABLES)],
            ),
            iam.PolicyStatement(actions=["s3:GetBucketLocation", "s3:ListBucket"], resources=[self.bucket.bucket_arn]),
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[self.bucket.arn_for_objects("*")]),
            iam.PolicyStatement(actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                                resources=[self.bucket.arn_for_objects("athena-results/*")]),
            iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[self.key.key_arn]),
        ])
        nag.acknowledge(policy, "AwsSolutions-IAM5",
                        "Athena reads the lake's objects under every table/tenant/day prefix the query's "
                        "partitions select (the tenant is bound in the query) and writes its result objects "
                        "under athena-results/ with the caller's permissions",
                        findings=[f"Resource::<{_logical(self.bucket)}.Arn>/*",
                                  f"Resource::<{_logical(self.bucket)}.Arn>/athena-results/*"])
        fn.add_environment("LAKE_WORKGROUP", self.workgroup.ref)
        fn.add_environment("LAKE_DATABASE", DATABASE)

    def grant_reference(self, fn: lambda_.Function) -> None:
        """The function that starts lake queries writes the reference tables first (the tenant's calendar
        and settings: ccaas.usecases.lake_reference, ccaas.adapters.aws.lake_reference): PutObject under
        those two tables' prefixes only, ListBucket of those prefixes only, the lake key's data keys through
        S3 only (the bucket's default encryption), and the bucket's name in LAKE_BUCKET; a policy of its own."""
        prefixes = [f"{table}/" for table in JSON_TABLES]
        policy = iam.Policy(fn.node.scope, "LakeReferencePolicy", roles=[fn.role], statements=[
            iam.PolicyStatement(sid="WriteReferenceTables", actions=["s3:PutObject"],
                                resources=[self.bucket.arn_for_objects(f"{p}*") for p in prefixes]),
            iam.PolicyStatement(sid="ListReferenceTables", actions=["s3:ListBucket"],
                                resources=[self.bucket.bucket_arn],
                                conditions={"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}}),
            iam.PolicyStatement(sid="LakeKeyThroughS3", actions=["kms:GenerateDataKey", "kms:Encrypt"],
                                resources=[self.key.key_arn],
                                conditions={"StringEquals": {"kms:ViaService": f"s3.{Aws.REGION}.amazonaws.com"}}),
        ])
        nag.acknowledge(policy, "AwsSolutions-IAM5",
                        "The reference tables are written per tenant and day under their own prefixes "
                        "(lake_intervals/tenant_id=/day=/calendar.json, tenant_settings/tenant_id=/settings.json); "
                        "no other prefix of the lake is named",
                        findings=[f"Resource::<{_logical(self.bucket)}.Arn>/{p}*" for p in prefixes])
        fn.add_environment(BUCKET_ENV, self.bucket.bucket_name)


def _logical(construct: Construct) -> str:
    return Stack.of(construct).get_logical_id(construct.node.default_child)  # type: ignore[arg-type]
