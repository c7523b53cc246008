"""The stored history path, in process on moto: post-contact steps per second, and the historical API's
latency for a day of N contacts read back from the History table through the real serve_api handler.

Run: `make bench` or `python -m bench history`. The stack is the synthesized template deployed into
in-process moto (as the contract tier does). Times are wall clock on one thread: they include moto's
own per-call cost (it is the slow part of most rows), so they bound our code from above rather than
predict DynamoDB's latency; the "ours" column splits out the CPU spent outside the moto calls.
"""
from __future__ import annotations

import importlib.util
import json
import os
import time
import uuid
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from bench.bench_kpis import simulated_day
from bench.table import print_table

TZ = "America/New_York"
STEP_CONTACTS = 40  # ended contacts pushed through the post-contact steps (half of them chats)
DAY_SIZE = 600  # moto's DynamoDB costs ~15 ms per conditional write in process: seeding dominates
PARSE_SIZE = 50_000  # stored items parsed without I/O, to extrapolate to a 50,000-contact day
CHAT_LINES = (
    ("CUSTOMER", "hi, my parcel has not arrived and the tracking has not moved for a week"),
    ("AGENT", "I am sorry to hear that, let me check the shipment for you"),
    ("CUSTOMER", "the order was paid with my card 4111 1111 1111 1111 so I want a refund"),
    ("AGENT", "I can see the courier lost it, I will send a replacement today"),
    ("CUSTOMER", "thanks, that is great"),
    ("AGENT", "you are welcome, anything else I can help with?"),
)


@contextmanager
def _moto_stack():
    from moto import mock_aws

    from local import moto_patches, synth
    from local.deployer import Deployer

    template, _, _ = synth.synth()
    moto_patches.apply()
    moto_patches.restore_step_functions_config()
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ.setdefault(name, "bench")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "CcaasBench")
    with mock_aws():
        yield Deployer(template, register_functions=False).deploy()


def _use_env(deployment: Any, folder: str) -> None:
    os.environ.update(deployment.function_by_folder(folder).environment)


def _load_handler(folder: str) -> Any:
    from infra.naming import FUNCTIONS_DIR

    spec = importlib.util.spec_from_file_location(f"bench_handler_{folder}", FUNCTIONS_DIR / folder / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler


def _context(name: str) -> SimpleNamespace:
    return SimpleNamespace(function_name=name, memory_limit_in_mb=512, aws_request_id=str(uuid.uuid4()),
                           invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
                           get_remaining_time_in_millis=lambda: 60_000)


def _api_event(path: str, tenant_id: str, query: dict[str, str]) -> dict:
    return {
        "resource": "/{proxy+}", "path": path, "httpMethod": "GET", "headers": {}, "multiValueHeaders": {},
        "queryStringParameters": query, "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "pathParameters": {"proxy": path.lstrip("/")}, "stageVariables": None,
        "requestContext": {"stage": "v1", "requestId": "bench", "httpMethod": "GET", "path": f"/v1{path}",
                           "resourcePath": "/{proxy+}", "identity": {"sourceIp": "127.0.0.1"},
                           "authorizer": {"tenant_id": tenant_id, "principalId": tenant_id}},
        "body": None, "isBase64Encoded": False,
    }  # fmt: skip


def _timed(fn: Any) -> tuple[float, float, Any]:
    """(wall s, CPU s of this process, result)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def _ended_contacts(deps: Any, tenant_id: str, count: int) -> list[tuple[str, bool]]:
    from ccaas.domain.history import ChatMessage
    from ccaas.domain.models import Channel, Contact, ContactState

    now = deps.clock.now_ms()
    made = []
    for i in range(count):
        chat = i % 2 == 0
        start = now - 3_600_000 + i * 20_000
        contact = Contact(
            tenant_id=tenant_id, contact_id=f"pc-{i:05d}", channel=Channel.CHAT if chat else Channel.VOICE,
            queue_id="sales", state=ContactState.COMPLETED, customer_id=f"cust-{i % 40}", reason="delivery",
            agent_id=f"agent-{i % 9}", initiated_at=start, enqueued_at=start + 2_000, connected_at=start + 12_000,
            disconnected_at=start + 200_000, acw_ended_at=start + 230_000, ended_at=start + 230_000, version=5,
        )  # fmt: skip
        deps.store.save(contacts=[contact.model_copy(update={"version": 0})])
        if chat:
            for n, (role, text) in enumerate(CHAT_LINES):
                deps.transcripts.add_message(tenant_id, contact.contact_id, ChatMessage(
                    message_id=f"m{n}", participant_role=role, content=text, absolute_time=start + 12_000 + n * 15_000))
        made.append((contact.contact_id, chat))
    return made


def main() -> None:
    import boto3

    from ccaas.adapters.aws.dynamodb import DynamoConfigStore, DynamoStateStore
    from ccaas.adapters.aws.history import DynamoHistoryStore, DynamoTranscriptStore, _entry
    from ccaas.bootstrap import memory_dependencies
    from ccaas.domain.kpis import rollup
    from ccaas.domain.tenants import Tenant
    from ccaas.usecases.analytics import analyze_contact
    from ccaas.usecases.history import record_contact

    with _moto_stack() as deployment:
        env = deployment.function_by_folder("serve_api").environment
        db = boto3.client("dynamodb")
        deps = memory_dependencies(
            store=DynamoStateStore(db, env["CONTACTS_TABLE"], env["AGENTS_TABLE"]),
            config=DynamoConfigStore(db, env["CONFIG_TABLE"]),
            history=DynamoHistoryStore(db, env["HISTORY_TABLE"]),
            transcripts=DynamoTranscriptStore(db, env["HISTORY_TABLE"]),
        )

        # 1. post-contact steps, as the Express workflow runs them
        deps.config.put_tenant(Tenant(tenant_id="steps", name="Steps", time_zone=TZ))
        contacts = _ended_contacts(deps, "steps", STEP_CONTACTS)
        wall_r, cpu_r, _ = _timed(lambda: [record_contact(deps, "steps", cid) for cid, _ in contacts])
        chats = [cid for cid, chat in contacts if chat]
        wall_a, cpu_a, _ = _timed(lambda: [analyze_contact(deps, "steps", cid) for cid in chats])
        per_contact = (wall_r + wall_a) / len(contacts)
        print_table(
            f"post-contact steps in process on moto ({len(contacts)} ended contacts, {len(chats)} chats of "
            f"{len(CHAT_LINES)} messages; FCR window lookups included)",
            ["step", "contacts", "wall ms/contact", "steps/s", "cpu ms/contact"],
            [
                ["RecordHistory", len(contacts), round(wall_r / len(contacts) * 1000, 2),
                 f"{len(contacts) / wall_r:,.0f}", round(cpu_r / len(contacts) * 1000, 2)],
                ["AnalyzeTranscript (chats)", len(chats), round(wall_a / len(chats) * 1000, 2),
                 f"{len(chats) / wall_a:,.0f}", round(cpu_a / len(chats) * 1000, 2)],
                ["whole workflow (avg contact)", len(contacts), round(per_contact * 1000, 2),
                 f"{1 / per_contact:,.0f}", "-"],
            ],
        )

        # 2. the historical API over a stored day of N contacts
        _use_env(deployment, "serve_api")
        handler = _load_handler("serve_api")
        size, tenant_id = DAY_SIZE, "day"
        deps.config.put_tenant(Tenant(tenant_id=tenant_id, name="Day", time_zone=TZ))
        records, _, day_start, day_end = simulated_day(contacts=size)
        records = [r.model_copy(update={"tenant_id": tenant_id}) for r in records]
        seed_wall, _, _ = _timed(lambda: [deps.history.put_record(r) for r in records])
        rows = [[f"seed {size:,} records (one conditional UpdateItem each)", size, round(seed_wall * 1000),
                 f"{size / seed_wall:,.0f} writes/s"]]
        read_wall, _, read = _timed(lambda: list(deps.history.entries_between(tenant_id, day_start - 86_400_000, day_end)))
        assert len(read) == size
        rows.append(["read the day's entries (by_day Query, 2 UTC days + lookback)", size, round(read_wall * 1000),
                     f"{size / read_wall:,.0f} entries/s"])
        day = {"from": "2026-11-20", "to": "2026-11-21"}
        handler(_api_event("/metrics/historical", tenant_id, day), _context("serve_api"))  # warm: imports, caches
        for label, path, query in (
            ("GET /metrics/historical 15m", "/metrics/historical", {**day, "interval": "15m"}),
            ("GET /metrics/historical hour by queue,channel", "/metrics/historical",
             {**day, "interval": "hour", "group_by": "queue,channel"}),
            ("GET /metrics/historical 15m as CSV", "/metrics/historical", {**day, "interval": "15m", "format": "csv"}),
            ("GET /metrics/historical/summary", "/metrics/historical/summary", day),
        ):
            wall, _, response = _timed(lambda path=path, query=query: handler(_api_event(path, tenant_id, query),
                                                                              _context("serve_api")))
            assert response["statusCode"] == 200, response["body"][:300]
            if path.endswith("summary"):
                assert json.loads(response["body"])["totals"]["offered"] == size
            rows.append([label, size, round(wall * 1000), f"{size / wall:,.0f} contacts/s"])
        print_table(
            "historical API on a stored day (serve_api handler -> by_day reads -> roll-up -> JSON/CSV), wall "
            "clock including moto's in-process DynamoDB",
            ["what", "contacts", "wall ms", "throughput"],
            rows,
        )

        # 3. our share without I/O: stored items back into entries, and the roll-up of a big day
        big, _, big_start, big_end = simulated_day(contacts=PARSE_SIZE)
        items = [_stored_item(r) for r in big]
        parse_cpu, parsed = _cpu(lambda: [_entry(r.tenant_id, r.contact_id, item) for r, item in zip(big, items)])
        kpi_cpu, _ = _cpu(lambda: rollup([e.kpi_record() for e in parsed], tz=TZ, interval="15m",
                                         from_ms=big_start, to_ms=big_end))
        print_table(
            f"our code on a {PARSE_SIZE:,}-contact day, no I/O (CPU, one core)",
            ["what", "contacts", "cpu ms", "contacts/s"],
            [
                ["stored items -> HistoryEntry (the adapter's parse)", PARSE_SIZE, round(parse_cpu * 1000),
                 f"{PARSE_SIZE / parse_cpu:,.0f}"],
                ["kpi_record() + 15m roll-up", PARSE_SIZE, round(kpi_cpu * 1000), f"{PARSE_SIZE / kpi_cpu:,.0f}"],
            ],
        )


def _cpu(fn: Any) -> tuple[float, Any]:
    started = time.process_time()
    result = fn()
    return time.process_time() - started, result


def _stored_item(record: Any) -> dict:
    """The ENTRY item put_record writes, built without a client (same attribute encoding)."""
    return {
        "pk": {"S": f"{record.tenant_id}#CONTACT#{record.contact_id}"}, "sk": {"S": "ENTRY"},
        "rec": {"S": record.model_dump_json(exclude_defaults=True)}, "lu": {"N": str(record.last_updated_at)},
        "fbr": {"BOOL": False}, "rpt": {"BOOL": False},
    }


if __name__ == "__main__":
    main()
