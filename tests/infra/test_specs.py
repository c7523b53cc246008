"""Function discovery vs the spec table, stage config, and the docker-free layer bundler."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from infra import jsii_env
from infra.config import StageConfig
from infra.function_specs import SPECS, FunctionSpec, check_specs
from infra.naming import TABLE_IDS, function_folders

if TYPE_CHECKING:  # the CDK is imported by the tests that use it: collection (every xdist worker) stays light
    from infra.stack import CcaasStack


def test_folders_and_specs_agree():
    check_specs(function_folders())


def test_folder_without_spec_fails():
    with pytest.raises(ValueError, match=r"without a spec.*\['escalate_contact'\]"):
        check_specs([*SPECS, "escalate_contact"])


def test_spec_without_folder_fails():
    with pytest.raises(ValueError, match=r"spec\(s\) without a functions/<folder>/handler.py: \['serve_api'\]"):
        check_specs([f for f in SPECS if f != "serve_api"])


def test_stack_refuses_to_synth_on_a_mismatch():
    import aws_cdk as cdk

    from infra.stack import CcaasStack

    with pytest.raises(ValueError, match="without a spec"):
        CcaasStack(cdk.App(), config=StageConfig("dev"), folders=[*SPECS, "escalate_contact"])


def test_env_follows_grants():
    spec = FunctionSpec("x", read=("Config",), read_write=("Contacts",), put_events=True, start_lifecycle=True)
    assert spec.env_names == ("CONTACTS_TABLE", "CONFIG_TABLE", "EVENTS_STREAM_NAME", "CONTACT_LIFECYCLE_STATE_MACHINE_ARN")
    with pytest.raises(ValueError, match="unknown table"):
        FunctionSpec("x", read=("Queues",))
    with pytest.raises(ValueError, match="both read and read_write"):
        FunctionSpec("x", read=("Config",), read_write=("Config",))


def test_spec_table_matches_the_brief():
    assert SPECS["authorize_request"].tables == ("Config",) and not SPECS["authorize_request"].read_write
    assert set(SPECS["serve_api"].read_write) == {
        "Contacts", "Agents", "Config", "Metrics", "Alerts", "History", "Customers", "Idempotency", "Connections",
        "Outbound"}
    # Connections: the views it has just written are pushed to watching supervisors (gone ones deleted).
    assert set(SPECS["consume_contact_events"].read_write) == {"Metrics", "Idempotency", "Connections"}
    assert SPECS["consume_contact_events"].push_to_sockets
    assert SPECS["consume_contact_events"].read == ("Config", "Contacts")
    for folder in ("route_contact", "recheck_contact"):
        assert not SPECS[folder].start_lifecycle  # invoked by the state machine: no cycle
    # the lifecycle ends at the answer: what ends an answered contact starts its post-contact workflow
    assert {f for f, s in SPECS.items() if s.start_post_contact} == {"serve_api", "run_journeys"}
    assert "POST_CONTACT_STATE_MACHINE_ARN" in SPECS["serve_api"].env_names
    assert "POST_CONTACT_STATE_MACHINE_ARN" not in SPECS["connect_flow"].env_names
    assert set(TABLE_IDS) == {"Contacts", "Agents", "Config", "Metrics", "Idempotency", "Alerts", "History", "Customers",
                              "Connections", "Outbound"}
    # outbound: the dialer loop starts the lifecycle of answered calls; CTRs of campaign calls carry outcomes
    assert SPECS["dial_campaign"].schedule == "rate(1 minute)" and SPECS["dial_campaign"].dials_connect
    assert SPECS["record_dial_outcomes"].consumes_contact_records and SPECS["record_dial_outcomes"].read_write == ("Outbound",)
    for folder in ("record_history", "analyze_contact", "consume_contact_records"):
        assert SPECS[folder].read_write[0] == "History" and "Config" in SPECS[folder].read
        assert not SPECS[folder].start_lifecycle and not SPECS[folder].put_events  # invoked BY the workflows
    assert SPECS["consume_contact_records"].consumes_contact_records and not SPECS["consume_contact_records"].consumes_events
    assert "Contacts" in SPECS["record_history"].read  # it maps the ended contact
    # Reg F: a conversation on an ended voice contact starts the 7-day quiet period for its person's numbers
    assert SPECS["record_history"].read_write == ("History", "Outbound") and "Customers" in SPECS["record_history"].read
    assert all(SPECS[f].read_write == ("History",) for f in ("analyze_contact", "consume_contact_records"))
    for folder in ("evaluate_alerts", "sweep_alerts"):  # alerts: their own table, and pushed to supervisors
        assert SPECS[folder].read_write == ("Alerts", "Connections") and SPECS[folder].publish_alerts
        assert SPECS[folder].push_to_sockets
    assert SPECS["evaluate_alerts"].consumes_events and SPECS["sweep_alerts"].schedule == "rate(1 minute)"


def test_stage_config_from_context():
    context = {"stage": "prod", "tenantTimeZone": "Europe/Madrid", "connectInstanceArns": '["arn:a","arn:b"]'}
    config = StageConfig.from_context(context.get)
    assert config.is_prod and config.tenant_time_zone == "Europe/Madrid"
    assert config.connect_instance_arns == ("arn:a", "arn:b")
    assert not StageConfig.from_context({}.get).is_prod
    with pytest.raises(ValueError):
        StageConfig("Prod Stage")


def _xray_actions(stack: CcaasStack, folder: str) -> list[str]:
    policy = stack.factory.functions[folder].role.node.find_child("DefaultPolicy")
    statements = stack.resolve(policy.node.default_child.policy_document)["Statement"]
    return [a for st in statements for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])
            if a.startswith("xray:")]


def test_stream_consumers_are_traced_only_when_the_stage_asks():
    """Construct-level (no second synthesis): untraced, a consumer has no X-Ray grant (its Tracer off:
    test_stack.test_function_settings); `-c traceStreamConsumers=true` traces it like every other function."""
    import aws_cdk as cdk

    from infra.stack import CcaasStack

    consumers = sorted(f for f, spec in SPECS.items() if spec.stream_consumer)
    assert set(consumers) == {"consume_contact_events", "evaluate_alerts", "record_agent_activity", "push_updates",
                              "consume_contact_records", "record_dial_outcomes"}
    assert StageConfig.from_context({"traceStreamConsumers": "true"}.get).trace_stream_consumers
    assert not StageConfig.from_context({}.get).trace_stream_consumers
    for config, traced in ((StageConfig("dev"), False), (StageConfig("dev", trace_stream_consumers=True), True)):
        stack = CcaasStack(cdk.App(), config=config)
        for folder in consumers:
            fn = stack.factory.functions[folder].node.default_child
            assert stack.resolve(fn.tracing_config) == ({"mode": "Active"} if traced else None), folder
            assert bool(_xray_actions(stack, folder)) is traced, folder
        assert stack.resolve(stack.factory.functions["serve_api"].node.default_child.tracing_config) == {"mode": "Active"}
        assert _xray_actions(stack, "serve_api") == ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]


def test_prod_retains_tables_and_logs():
    """Construct-level check (no second synthesis): prod stage -> RETAIN."""
    import aws_cdk as cdk

    from infra.stack import CcaasStack

    stack = CcaasStack(cdk.App(), config=StageConfig("prod"))
    for table in stack.data.tables.values():
        assert table.node.default_child.cfn_options.deletion_policy == cdk.CfnDeletionPolicy.RETAIN
    log_group = stack.factory.functions["serve_api"].node.scope.node.find_child("Logs")
    assert log_group.node.default_child.cfn_options.deletion_policy == cdk.CfnDeletionPolicy.RETAIN


def test_copy_package_skips_caches(tmp_path):
    from infra.constructs.layer import CopyPackage

    src = tmp_path / "src" / "pkg"
    (src / "sub" / "__pycache__").mkdir(parents=True)
    (src / "__init__.py").write_text("")
    (src / "sub" / "mod.py").write_text("X = 1\n")
    (src / "sub" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\0")
    out = tmp_path / "out"
    out.mkdir()
    assert CopyPackage(src, "python/pkg").try_bundle(str(out), None) is True
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == ["python/pkg/__init__.py", "python/pkg/sub/mod.py"]


def test_jsii_env_prefers_the_wheel_node_but_respects_an_explicit_one(monkeypatch):
    monkeypatch.delenv("JSII_NODE", raising=False)
    jsii_env.configure()
    wheel = jsii_env.wheel_node()
    if wheel is not None:
        assert os.environ["JSII_NODE"] == str(wheel)
    monkeypatch.setenv("JSII_NODE", "/opt/custom/node")
    jsii_env.configure()
    assert os.environ["JSII_NODE"] == "/opt/custom/node"
    assert os.environ["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"]
