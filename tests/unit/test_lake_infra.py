"""infra/constructs/lake.py synthesized on its own (the stack adds it only with `-c lake=true`): the Glue
tables come from ccaas.domain.lake.TABLES, the bucket is locked down, Firehose converts to Parquet with
dynamic partitioning, Athena results are encrypted; cdk-nag and cfn-lint are clean, and each nag
acknowledgment still matches a real finding."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from infra import jsii_env  # noqa: F401  (before aws_cdk: which Node jsii runs on)
from ccaas.adapters.aws.lake import STREAMS_ENV
from ccaas.domain.lake import TABLES

if TYPE_CHECKING:  # the CDK is imported by the tests and fixtures that use it: every xdist worker collects this
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk.assertions import Template

ANALYSTS = ("acme", "globex")
# The stand-in writers and what each exports (as infra.function_specs.LAKE_EXPORTS grants the real ones).
WRITERS = {"RecordHistory": ("contact_records",), "RecordAgentActivity": ("agent_activity",),
           "AnalyzeContact": ("contact_records", "transcript_analyses"),
           "ServeApi": ("contact_records", "surveys", "transcript_analyses")}


def _function(stack: cdk.Stack, name: str) -> lambda_.Function:
    """A stand-in for a factory-built function (its own scope and role, no managed policy) to grant to."""
    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_lambda as lambda_
    from constructs import Construct

    scope = Construct(stack, name)
    role = iam.Role(scope, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    fn = lambda_.Function(scope, "Function", runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
                          code=lambda_.Code.from_inline("def handler(event, context): return None"), role=role)
    cdk.Validations.of(fn.node.default_child).acknowledge(cdk.Acknowledgment(
        id="AwsSolutions-L1", reason="test scaffolding: the runtime of a stand-in function is irrelevant"))
    return fn


def _app(outdir: Path) -> tuple[cdk.App, cdk.Stack]:
    import aws_cdk as cdk
    from aws_cdk import aws_cloudwatch_actions as cw_actions
    from aws_cdk import aws_kinesis as kinesis
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_sns as sns
    from cdk_nag import AwsSolutionsChecks

    from infra.constructs.lake import Lake

    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "LakeOnly")
    stream = kinesis.Stream(stack, "Events", encryption=kinesis.StreamEncryption.MANAGED,
                            stream_mode=kinesis.StreamMode.ON_DEMAND)
    topic = sns.Topic(stack, "Alarms", enforce_ssl=True, master_key=kms.Alias.from_alias_name(stack, "SnsKey", "alias/aws/sns"))
    lake = Lake(stack, "Lake", events_stream=stream, removal_policy=cdk.RemovalPolicy.DESTROY,
                alarm_action=cw_actions.SnsAction(topic), analyst_tenants=ANALYSTS)
    functions = {name: _function(stack, name) for name in WRITERS}
    lake.grant_query(functions["ServeApi"])
    lake.grant_reference(functions["ServeApi"])
    for name, tables in WRITERS.items():
        lake.grant_export(functions[name], tables)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return app, stack


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory):
    from aws_cdk.assertions import Template

    outdir = tmp_path_factory.mktemp("cdk.out.lake")
    app, stack = _app(outdir)
    app.synth()  # cdk-nag is a validation plugin: any unacknowledged finding raises here
    return Template.from_stack(stack), outdir / f"{stack.stack_name}.template.json"


def test_one_glue_table_per_lake_table_with_partition_projection(synthesized):
    from infra.constructs.lake import DATABASE

    template, _ = synthesized
    tables = template.find_resources("AWS::Glue::Table")
    by_name = {t["Properties"]["TableInput"]["Name"]: t["Properties"]["TableInput"] for t in tables.values()}
    assert set(by_name) == set(TABLES)
    for name, table in TABLES.items():
        glue = by_name[name]
        columns = [(c["Name"], c["Type"]) for c in glue["StorageDescriptor"]["Columns"]]
        assert columns == [(c.name, c.glue_type) for c in table.columns]
        assert [k["Name"] for k in glue["PartitionKeys"]] == list(table.partition_by)
        assert glue["Parameters"]["projection.enabled"] == "true"
        assert glue["Parameters"]["projection.tenant_id.type"] == "injected"  # a query must bind its tenant
        if "day" in table.partition_by:
            assert glue["Parameters"]["projection.day.type"] == "date"
    template.has_resource_properties("AWS::Glue::Database", {"DatabaseInput": {"Name": DATABASE}})


def test_the_bucket_is_kms_encrypted_private_ssl_only_logged_and_tiered(synthesized):
    from aws_cdk.assertions import Match

    template, _ = synthesized
    template.has_resource_properties("AWS::S3::Bucket", {
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            Match.object_like({"ServerSideEncryptionByDefault": Match.object_like({"SSEAlgorithm": "aws:kms"})})]},
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                           "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "LoggingConfiguration": Match.object_like({"LogFilePrefix": "lake/"}),
        "LifecycleConfiguration": {"Rules": Match.array_with([Match.object_like({
            "Transitions": [Match.object_like({"StorageClass": "GLACIER_IR"})]})])},
    })
    template.has_resource_properties("AWS::S3::BucketPolicy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])}})
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_firehose_converts_events_to_parquet_partitioned_by_tenant_and_day(synthesized):
    template, _ = synthesized
    (stream,) = [s for s in template.find_resources("AWS::KinesisFirehose::DeliveryStream").values()
                 if s["Properties"]["DeliveryStreamType"] == "KinesisStreamAsSource"]
    s3 = stream["Properties"]["ExtendedS3DestinationConfiguration"]
    assert s3["Prefix"].startswith("contact_events/tenant_id=!{partitionKeyFromQuery:tenant_id}/day=")
    assert s3["DynamicPartitioningConfiguration"]["Enabled"] is True
    conversion = s3["DataFormatConversionConfiguration"]
    assert conversion["Enabled"] is True and "ParquetSerDe" in conversion["OutputFormatConfiguration"]["Serializer"]
    assert conversion["SchemaConfiguration"]["TableName"] == "contact_events"
    assert s3["ErrorOutputPrefix"].startswith("errors/")
    assert stream["Properties"]["DeliveryStreamType"] == "KinesisStreamAsSource"


def test_athena_results_are_encrypted_and_the_workgroup_enforced(synthesized):
    from aws_cdk.assertions import Match

    template, _ = synthesized
    template.has_resource_properties("AWS::Athena::WorkGroup", {"WorkGroupConfiguration": Match.object_like({
        "EnforceWorkGroupConfiguration": True,
        "EngineVersion": {"SelectedEngineVersion": "Athena engine version 3"},  # query result reuse needs it
        "ResultConfiguration": Match.object_like({
            "EncryptionConfiguration": Match.object_like({"EncryptionOption": "SSE_KMS"})}),
    })})


def test_cfn_lint_clean(synthesized):
    from cfnlint.api import ManualArgs, lint_file

    _, path = synthesized
    assert [str(m) for m in lint_file(path, config=ManualArgs(ignore_checks=["W3005"]))] == []


def test_every_acknowledgment_matches_a_real_finding(tmp_path):
    from infra import nag
    from infra.constructs.lake import JSON_TABLES

    with nag.acknowledgments_disabled():
        app, _ = _app(tmp_path)
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    found = set()
    for plugin in report.get("pluginReports", []):
        for violation in plugin.get("violations", []):
            found.add(violation["ruleName"])
    assert "AwsSolutions-KDF1" in found
    assert {"AwsSolutions-IAM5[Action::s3:Abort*]", "AwsSolutions-IAM5[Action::kms:ReEncrypt*]"} <= found
    assert any(f.startswith("AwsSolutions-IAM5[Resource::<") and f.endswith(".Arn>/athena-results/*]") for f in found)
    for tenant in ANALYSTS:  # each analyst policy's acknowledged prefixes are real findings
        assert any(f.endswith(f".Arn>/athena-results/tenant_id={tenant}/*]") for f in found), tenant
        for table in TABLES:
            assert any(f.endswith(f".Arn>/{table}/tenant_id={tenant}/*]") for f in found), (tenant, table)
    for table in JSON_TABLES:  # the reference writer's acknowledged prefixes are real findings
        assert any(f.endswith(f".Arn>/{table}/*]") for f in found), table
    assert not {f for f in found if f.startswith("AwsSolutions-") and "IAM5" not in f and f != "AwsSolutions-KDF1"}


def _direct_put_streams(template: Template) -> dict[str, dict]:
    """The Direct PUT streams by the Glue table they convert with."""
    streams = [s for s in template.find_resources("AWS::KinesisFirehose::DeliveryStream").values()
               if s["Properties"]["DeliveryStreamType"] == "DirectPut"]
    return {s["Properties"]["ExtendedS3DestinationConfiguration"]["DataFormatConversionConfiguration"]
            ["SchemaConfiguration"]["TableName"]: s for s in streams}


def test_every_writer_table_has_its_own_direct_put_stream_partitioned_by_the_rows_tenant_and_local_day(synthesized):
    from infra.constructs.lake import DATABASE, DIRECT_PUT_TABLES

    template, _ = synthesized
    streams = _direct_put_streams(template)
    assert set(streams) == set(DIRECT_PUT_TABLES) == {"contact_records", "agent_activity", "surveys",
                                                       "transcript_analyses"}
    assert set(DIRECT_PUT_TABLES) == set(TABLES) - {"contact_events", "lake_intervals", "tenant_settings"}
    for table, stream in streams.items():
        assert stream["Properties"]["DeliveryStreamEncryptionConfigurationInput"] == {"KeyType": "AWS_OWNED_CMK"}
        s3 = stream["Properties"]["ExtendedS3DestinationConfiguration"]
        assert s3["Prefix"] == f"{table}/tenant_id=!{{partitionKeyFromQuery:tenant_id}}/day=!{{partitionKeyFromQuery:day}}/"
        assert s3["ErrorOutputPrefix"].startswith(f"errors/{table}/!{{firehose:error-output-type}}/")
        assert s3["EncryptionConfiguration"]["KMSEncryptionConfig"]["AWSKMSKeyARN"]
        assert s3["DynamicPartitioningConfiguration"] == {"Enabled": True, "RetryOptions": {"DurationInSeconds": 900}}
        (processor,) = s3["ProcessingConfiguration"]["Processors"]
        query = {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}["MetadataExtractionQuery"]
        assert query == "{tenant_id: .tenant_id, day: .day}"  # the exporter's tenant-local day, not a UTC one
        conversion = s3["DataFormatConversionConfiguration"]
        assert conversion["Enabled"] is True and "ParquetSerDe" in conversion["OutputFormatConfiguration"]["Serializer"]
        assert conversion["SchemaConfiguration"]["DatabaseName"] == DATABASE
        assert stream["DependsOn"]  # the Glue table (its schema) and the role exist first


def test_the_firehose_role_reads_the_schema_of_every_table_it_converts(synthesized):
    from infra.constructs.lake import DATABASE, DIRECT_PUT_TABLES

    template, _ = synthesized
    policies = template.find_resources("AWS::IAM::Policy")
    (role_policy,) = [p for k, p in policies.items() if k.startswith("LakeDeliveryRoleDefaultPolicy")]
    glue = next(st for st in role_policy["Properties"]["PolicyDocument"]["Statement"]
                if "glue:GetTable" in st["Action"])
    named = json.dumps(glue["Resource"])
    for table in ("contact_events", *DIRECT_PUT_TABLES):
        assert f"table/{DATABASE}/{table}" in named, table


def test_every_delivery_stream_has_failure_and_staleness_alarms_with_an_action(synthesized):
    from infra.constructs.lake import DIRECT_PUT_TABLES

    template, _ = synthesized
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    by_metric: dict[str, set[str]] = {}
    for alarm in alarms.values():
        props = alarm["Properties"]
        assert props["Namespace"] == "AWS/Firehose" and props["AlarmActions"]
        (dimension,) = props["Dimensions"]
        by_metric.setdefault(props["MetricName"], set()).add(dimension["Value"]["Ref"])
    streams = set(template.find_resources("AWS::KinesisFirehose::DeliveryStream"))
    assert len(streams) == 1 + len(DIRECT_PUT_TABLES)
    assert by_metric == {"FailedConversion.Records": streams, "DeliveryToS3.Success": streams,
                         "DeliveryToS3.DataFreshness": streams}


def _policies(template: Template) -> dict[str, list[dict]]:
    return {k: p["Properties"]["PolicyDocument"]["Statement"] for k, p in template.find_resources("AWS::IAM::Policy").items()}


def _stream_refs(template: Template) -> dict[str, str]:
    """table -> the logical id of its Direct PUT stream."""
    found = {}
    for logical, stream in template.find_resources("AWS::KinesisFirehose::DeliveryStream").items():
        if stream["Properties"]["DeliveryStreamType"] == "DirectPut":
            conversion = stream["Properties"]["ExtendedS3DestinationConfiguration"]["DataFormatConversionConfiguration"]
            found[conversion["SchemaConfiguration"]["TableName"]] = logical
    return found


def test_grants_give_the_api_athena_and_each_writer_put_record_batch_on_its_streams_only(synthesized):
    from infra.constructs.lake import DATABASE

    template, _ = synthesized
    functions = template.find_resources("AWS::Lambda::Function")
    env = {k: f["Properties"].get("Environment", {}).get("Variables", {}) for k, f in functions.items()}
    refs = _stream_refs(template)
    for name, tables in WRITERS.items():
        (variables,) = [v for k, v in env.items() if k.startswith(name)]
        lake_vars = {k: v for k, v in variables.items() if k.startswith("LAKE_") and k.endswith("_STREAM")}
        assert lake_vars == {STREAMS_ENV[t]: {"Ref": refs[t]} for t in tables}, name
    (serve,) = [v for k, v in env.items() if k.startswith("ServeApi")]
    (record,) = [v for k, v in env.items() if k.startswith("RecordHistory")]
    assert serve["LAKE_DATABASE"] == DATABASE and "LAKE_WORKGROUP" in serve
    assert "LAKE_WORKGROUP" not in record
    policies = _policies(template)
    query = next(v for k, v in policies.items() if "LakeQueryPolicy" in k)
    actions = {a for st in query for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])}
    assert {"athena:StartQueryExecution", "athena:GetQueryResults", "glue:GetTable", "s3:GetObject",
            "kms:Decrypt"} <= actions
    assert not any(a.startswith(("s3:Delete", "athena:Create", "glue:Create", "glue:Update")) for a in actions)
    exports = {k: v for k, v in policies.items() if "LakeExportPolicy" in k}
    assert len(exports) == len(WRITERS)
    for name, tables in WRITERS.items():
        (statements,) = [v for k, v in exports.items() if k.startswith(name)]
        (statement,) = statements
        assert statement["Action"] == "firehose:PutRecordBatch" and statement["Effect"] == "Allow"
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert resources == [{"Fn::GetAtt": [refs[t], "Arn"]} for t in tables], name


def test_a_grant_names_only_delivered_tables():
    import aws_cdk as cdk
    from aws_cdk import aws_kinesis as kinesis

    from infra.constructs.lake import Lake

    app = cdk.App()
    stack = cdk.Stack(app, "Bad")
    stream = kinesis.Stream(stack, "Events")
    lake = Lake(stack, "Lake", events_stream=stream, removal_policy=cdk.RemovalPolicy.DESTROY)
    with pytest.raises(ValueError, match="lake_intervals"):
        lake.grant_export(_function(stack, "Writer"), ("lake_intervals",))


# --- analysts ----------------------------------------------------------------------------------------
def test_analyst_tenants_are_validated_against_the_tenant_id_pattern():
    from infra.constructs.lake import analyst_tenants

    assert analyst_tenants(None) == () and analyst_tenants("") == ()
    assert analyst_tenants("acme, globex,acme") == ("acme", "globex")
    assert analyst_tenants(["acme", "t-2"]) == ("acme", "t-2")
    for bad in ("acme,Globex", "acme,,globex", "a", "acme/../x", "acme,*", "a" * 41):
        with pytest.raises(ValueError, match="lake_analyst_tenants"):
            analyst_tenants(bad)


def _statements_by_sid(policy: dict) -> dict[str, dict]:
    return {st["Sid"]: st for st in policy["Properties"]["PolicyDocument"]["Statement"]}


def _managed_policy(template: Template, tenant: str) -> dict:
    (policy,) = [p for k, p in template.find_resources("AWS::IAM::ManagedPolicy").items()
                 if k.startswith(f"LakeAnalyst{tenant}")]
    return policy


def _text(value) -> str:
    """A CloudFormation value flattened to text (Fn::Join parts joined, Refs and GetAtts named)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(_text(v) for v in value)
    if "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(_text(p) for p in parts)
    if "Ref" in value:
        return "<" + value["Ref"] + ">"
    if "Fn::GetAtt" in value:
        return "<" + ".".join(value["Fn::GetAtt"]) + ">"
    raise AssertionError(value)


def test_each_analyst_policy_reads_only_its_own_tenant_prefix_of_every_table(synthesized):
    from infra.constructs.lake import DATABASE

    template, _ = synthesized
    for tenant in ANALYSTS:
        other = next(t for t in ANALYSTS if t != tenant)
        sids = _statements_by_sid(_managed_policy(template, tenant))
        read = sids["ReadTenantObjects"]
        assert read["Action"] == "s3:GetObject" and read["Effect"] == "Allow"
        objects = sorted(_text(r) for r in read["Resource"])
        bucket = objects[0].split("/")[0]
        assert objects == sorted(f"{bucket}/{t}/tenant_id={tenant}/*" for t in TABLES)
        listing = sids["ListTenantPrefixes"]
        assert listing["Action"] == "s3:ListBucket" and _text(listing["Resource"]) == bucket
        assert sorted(listing["Condition"]["StringLike"]["s3:prefix"]) == sorted(
            [f"{t}/tenant_id={tenant}/*" for t in TABLES] + [f"athena-results/tenant_id={tenant}/*"])
        results = sids["TenantQueryResults"]
        assert _text(results["Resource"]) == f"{bucket}/athena-results/tenant_id={tenant}/*"
        assert "s3:DeleteObject" not in results["Action"]
        kms = sids["LakeKeyThroughS3"]
        assert set(kms["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
        assert _text(kms["Condition"]["StringEquals"]["kms:ViaService"]) == "s3.<AWS::Region>.amazonaws.com"
        assert _text(kms["Resource"]).startswith("<LakeKey")
        glue = sids["LakeCatalog"]
        assert set(glue["Action"]) == {"glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"}
        assert {_text(r).rsplit(":", 1)[1] for r in glue["Resource"]} == {
            "catalog", f"database/{DATABASE}", *(f"table/{DATABASE}/{t}" for t in TABLES)}
        athena = sids["TenantWorkGroup"]
        assert "athena:StartQueryExecution" in athena["Action"]
        (workgroup,) = [k for k in template.find_resources("AWS::Athena::WorkGroup") if k.startswith(f"LakeAnalyst{tenant}")]
        assert _text(athena["Resource"]).endswith(f":workgroup/<{workgroup}>")
        everything = json.dumps(sids)
        assert f"tenant_id={other}" not in everything  # never another tenant's prefix
        for st in sids.values():  # no wildcard but the object suffix of a tenant's own prefix
            for text in (_text(r) for r in (st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]])):
                assert "*" not in text or text.endswith(f"tenant_id={tenant}/*"), text
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            assert not any("*" in a for a in actions)


def test_each_analyst_tenant_has_an_enforced_encrypted_workgroup_and_outputs(synthesized):
    template, _ = synthesized
    workgroups = template.find_resources("AWS::Athena::WorkGroup")
    outputs = template.find_outputs("*")
    for tenant in ANALYSTS:
        (props,) = [w["Properties"] for k, w in workgroups.items() if k.startswith(f"LakeAnalyst{tenant}")]
        assert props["Name"].endswith(f"-lake-{tenant}")
        config = props["WorkGroupConfiguration"]
        assert config["EnforceWorkGroupConfiguration"] is True
        result = config["ResultConfiguration"]
        assert _text(result["OutputLocation"]).endswith(f"/athena-results/tenant_id={tenant}/")
        assert result["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"
        (policy_logical,) = [k for k in template.find_resources("AWS::IAM::ManagedPolicy")
                             if k.startswith(f"LakeAnalyst{tenant}")]
        (arn,) = [o for k, o in outputs.items() if k.startswith(f"LakeAnalyst{tenant}PolicyArn")]
        assert arn["Value"] == {"Ref": policy_logical}
    assert len(template.find_resources("AWS::IAM::ManagedPolicy")) == len(ANALYSTS)


# --- the reference tables (calendar, settings) as JSON, written by the API function ------------------------
def test_the_reference_tables_are_json_with_the_same_projection_and_the_columns_the_sql_reads(synthesized):
    from infra.constructs.lake import JSON_TABLES

    template, _ = synthesized
    by_name = {t["Properties"]["TableInput"]["Name"]: t["Properties"]["TableInput"]
               for t in template.find_resources("AWS::Glue::Table").values()}
    assert set(JSON_TABLES) == {"lake_intervals", "tenant_settings"}
    for name, glue in by_name.items():
        descriptor = glue["StorageDescriptor"]
        if name in JSON_TABLES:
            assert glue["Parameters"]["classification"] == "json"
            assert descriptor["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
            assert descriptor["SerdeInfo"]["Parameters"]["ignore.malformed.json"] == "FALSE"
            assert descriptor["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
            assert descriptor["OutputFormat"] == "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
        else:
            assert glue["Parameters"]["classification"] == "parquet", name
            assert descriptor["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe"), name
        # the same projection as the Parquet tables: the tenant injected, days a date range
        assert glue["Parameters"]["projection.tenant_id.type"] == "injected"
        template_text = json.dumps(glue["Parameters"]["storage.location.template"])  # an Fn::Join of the bucket
        assert f"/{name}/" + "/".join(f"{p}=${{{p}}}" for p in TABLES[name].partition_by) + '/"' in template_text
    # the column types the KPI SQL compares and sums (ms as bigint, labels as strings, money as double)
    intervals = {c["Name"]: c["Type"] for c in by_name["lake_intervals"]["StorageDescriptor"]["Columns"]}
    assert {k: v for k, v in intervals.items() if k.endswith("_ms")} == {
        f"{p}_{e}_ms": "bigint" for p in ("quarter", "hour", "day", "week") for e in ("start", "end")}
    assert {k: v for k, v in intervals.items() if k.endswith("_label")} == {
        f"{p}_{e}_label": "string" for p in ("quarter", "hour", "day", "week") for e in ("start", "end")}
    settings = {c["Name"]: c["Type"] for c in by_name["tenant_settings"]["StorageDescriptor"]["Columns"]}
    assert settings["short_abandon_ms"] == "double" and settings["default_sl_threshold_ms"] == "bigint"
    assert settings["service_level_variant"] == "string" and settings["agent_cost_per_staffed_hour"] == "double"
    assert [k["Name"] for k in by_name["tenant_settings"]["PartitionKeys"]] == ["tenant_id"]


def test_the_api_writes_only_the_reference_prefixes_with_the_lake_key_through_s3(synthesized):
    from ccaas.adapters.aws.lake_reference import BUCKET_ENV
    from infra.constructs.lake import JSON_TABLES

    template, _ = synthesized
    functions = template.find_resources("AWS::Lambda::Function")
    env = {k: f["Properties"].get("Environment", {}).get("Variables", {}) for k, f in functions.items()}
    (serve,) = [v for k, v in env.items() if k.startswith("ServeApi")]
    (bucket,) = [k for k in template.find_resources("AWS::S3::Bucket") if k.startswith("LakeBucket")]
    assert serve[BUCKET_ENV] == {"Ref": bucket}
    assert all(BUCKET_ENV not in v for k, v in env.items() if not k.startswith("ServeApi"))
    (statements,) = [v for k, v in _policies(template).items() if "LakeReferencePolicy" in k]
    by_sid = {st["Sid"]: st for st in statements}
    assert set(by_sid) == {"WriteReferenceTables", "ListReferenceTables", "LakeKeyThroughS3"}
    write = by_sid["WriteReferenceTables"]
    assert write["Action"] == "s3:PutObject"
    assert [r["Fn::Join"][1][-1] for r in write["Resource"]] == [f"/{t}/*" for t in JSON_TABLES]
    listing = by_sid["ListReferenceTables"]
    assert listing["Action"] == "s3:ListBucket" and listing["Resource"] == {"Fn::GetAtt": [bucket, "Arn"]}
    assert listing["Condition"] == {"StringLike": {"s3:prefix": [f"{t}/*" for t in JSON_TABLES]}}
    key = by_sid["LakeKeyThroughS3"]
    assert sorted(key["Action"]) == ["kms:Encrypt", "kms:GenerateDataKey"]
    assert "kms:ViaService" in key["Condition"]["StringEquals"]
    # the objects are encrypted by the bucket's default: SSE-KMS with the lake key (the one granted)
    (lake_bucket,) = [b for k, b in template.find_resources("AWS::S3::Bucket").items() if k == bucket]
    (rule,) = lake_bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == key["Resource"]
