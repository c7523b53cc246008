"""Names shared by the CDK app and the local runtime, so both derive the same ids from one place.

A Lambda lives in functions/<folder>/handler.py. Its construct id is the folder in PascalCase, and
an ASL file refers to it as ${<ConstructId>FunctionArn}. Tables and the stream follow the same rule.
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"
LAYERS_DIR = ROOT / "layers"
STATEMACHINES_DIR = ROOT / "statemachines"
STACK_NAME = "Ccaas"
HANDLER = "handler.lambda_handler"


def construct_id(folder: str) -> str:
    """route_contact -> RouteContact"""
    return "".join(part.capitalize() for part in folder.split("_"))


def function_arn_placeholder(folder: str) -> str:
    return f"{construct_id(folder)}FunctionArn"


def table_name_placeholder(table_id: str) -> str:
    return f"{table_id}TableName"


def function_folders() -> list[str]:
    return sorted(p.parent.name for p in FUNCTIONS_DIR.glob("*/handler.py"))


# --- Added for the CDK app (infra/constructs) and the local runtime: one spelling of every id. ---

# Table ids, in the order they are created. Construct id "<Id>Table", env var "<ID>_TABLE",
# ASL placeholder "${<Id>TableName}", stack output "<Id>TableName".
TABLE_IDS = (
    "Contacts", "Agents", "Config", "Metrics", "Idempotency", "Alerts", "History", "Customers", "Connections", "Outbound",
)
EVENTS_STREAM_ID = "ContactEvents"  # construct "ContactEventsStream"
EVENTS_STREAM_ENV = "EVENTS_STREAM_NAME"
CONTACT_LIFECYCLE = "ContactLifecycle"  # statemachines/contact_lifecycle.asl.json
CONTACT_LIFECYCLE_ARN_ENV = "CONTACT_LIFECYCLE_STATE_MACHINE_ARN"
ALERTS_BUS_ID = "AlertsBus"  # EventBridge custom bus "ccaas-alerts-<stage>" (no rules of ours on it)
ALERTS_BUS_ENV = "ALERTS_BUS_NAME"
CONTACT_RECORDS_STREAM_ID = "ContactRecords"  # Amazon Connect CTRs; construct "ContactRecordsStream"
POST_CONTACT = "PostContact"  # statemachines/post_contact.asl.json (Express)
POST_CONTACT_ARN_ENV = "POST_CONTACT_STATE_MACHINE_ARN"
WEBSOCKET_ENDPOINT_ENV = "WEBSOCKET_ENDPOINT"  # the WebSocket stage's https callback URL (PostToConnection)


def table_construct_id(table_id: str) -> str:
    """Contacts -> ContactsTable"""
    return f"{table_id}Table"


def table_env_var(table_id: str) -> str:
    """Contacts -> CONTACTS_TABLE (the settings name every function uses)"""
    return f"{table_id.upper()}_TABLE"


def state_machine_arn_placeholder(name: str) -> str:
    """PostContact -> PostContactStateMachineArn (how another ASL refers to this state machine)"""
    return f"{name}StateMachineArn"


def state_machine_file(name: str) -> Path:
    """ContactLifecycle -> statemachines/contact_lifecycle.asl.json"""
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
    return STATEMACHINES_DIR / f"{snake}.asl.json"
