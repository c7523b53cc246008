"""The demo tenant's outbound campaign: a few hundred list rows, a running predictive campaign on the `sales`
queue, and the simulated carrier as its dialer. The template's one-minute schedule runs functions/dial_campaign
(local.scheduler), whose answered calls reach the simulation's agents as OUTBOUND contacts beside the inbound
traffic.

The list (300 rows, generated, fixed seed): US numbers across six zones (the zone from the row, from the ZIP
code, from the state or from the number: every source the list parser knows) and mobile numbers of six
countries from UTC-3 to UTC+11, so that whatever the hour some rows are inside 08:00-21:00 local and some wait
for their window; every 10th row (from r003) is on the tenant's do-not-call list and every 12th (from r007) has
no consent for automated calls: blocked by rule, visible in GET /campaigns/demo-outbound/metrics. Numbers
are fictional (US 555-01xx, the countries' example mobile ranges).
"""
from __future__ import annotations

import random
from typing import Any

CAMPAIGN_ID = "demo-outbound"
QUEUE_ID = "sales"
ROWS = 300
DNC_EVERY, DNC_FIRST = 10, 3
NO_CONSENT_EVERY, NO_CONSENT_FIRST = 12, 7
# (area code, how the row names its zone, value): the US half of the list
_US = (("212", "time_zone", "America/New_York"), ("312", "postal_code", "60601"), ("303", "state", "CO"),
       ("213", "number", ""), ("907", "time_zone", "America/Anchorage"), ("808", "number", ""))
# mobile example ranges (phonenumbers' example numbers, last three digits varied)
_WORLD = ("+447400123", "+4915123456", "+918123456", "+819012345", "+61412345", "+5511961234")
DIALER = {"kind": "simulated", "seed": 7, "p_human": 0.45, "p_machine": 0.2, "p_busy": 0.05, "p_invalid": 0.03}


def rows(count: int = ROWS, seed: int = 15) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(count):
        row: dict[str, Any] = {"row_id": f"r{i:03d}", "account_id": f"acct-{i // 2:03d}",  # two rows per account
                               "consent_automated_voice": not (i % NO_CONSENT_EVERY == NO_CONSENT_FIRST),
                               "first_name": rng.choice(("Alex", "Sam", "Jo", "Kim", "Lee", "Max", "Noa", "Ari"))}
        if i % 2 == 0:
            area, source, value = _US[(i // 2) % len(_US)]
            row["phone"] = f"+1{area}5550{100 + (i // 2) % 100:03d}"
            if source != "number":
                row[source] = value
        else:
            prefix = _WORLD[(i // 2) % len(_WORLD)]
            row["phone"] = f"{prefix}{100 + (i // 2) % 900:03d}"
        out.append(row)
    return out


def dnc_numbers(listed: list[dict[str, Any]]) -> list[str]:
    return [r["phone"] for i, r in enumerate(listed) if i % DNC_EVERY == DNC_FIRST]


def seed(deps: Any, tenant_id: str) -> dict[str, Any]:
    """Create the demo campaign with its list, DNC entries and dialer, in draft: every runtime has it, only
    `python -m local` starts it (`start`), so tests and benches see no outbound traffic they did not ask for."""
    from ccaas.ports_outbound import DialerSettings
    from ccaas.usecases import outbound

    outbound.put_dialer_settings(deps, tenant_id, DialerSettings.model_validate(DIALER))
    outbound.create_campaign(deps, tenant_id, outbound.CampaignRequest(
        campaign_id=CAMPAIGN_ID, name="Demo renewals (outbound)", mode="predictive", queue_id=QUEUE_ID,
        caller_id="+14155550150", policy={"max_attempts": 4, "min_gap_minutes": 30}))
    listed = rows()
    loaded = outbound.upload_list(deps, tenant_id, CAMPAIGN_ID, outbound.ListUpload(format="json", rows=listed))
    outbound.add_suppressions(deps, tenant_id, outbound.SuppressionRequest(
        entries=[{"kind": "number", "value": n} for n in dnc_numbers(listed)], source="internal_dnc"))
    return {"campaign_id": CAMPAIGN_ID, "rows": loaded.accepted, "rejected": loaded.rejected}


def start(runtime: Any, tenant_id: str = "demo") -> str:
    """Start the demo campaign on a running LocalRuntime (what a supervisor's POST .../start does)."""
    from local import env_overlay

    with env_overlay.overlay(runtime.function_environment("serve_api")):
        from ccaas.bootstrap import dependencies
        from ccaas.usecases import outbound

        return str(outbound.change_status(dependencies(), tenant_id, CAMPAIGN_ID, "start").status)


def banner_line(runtime: Any, status: str = "running") -> str:
    """The banner's line on the demo campaign as it is: dialing when `status` is running, else how to start it."""
    keys = getattr(runtime, "role_keys", {}).get("demo", {})
    auth = f"-H 'Authorization: Bearer {keys.get('supervisor', '<supervisor key>')}'"
    if status == "running":
        return (f"  Outbound:     campaign {CAMPAIGN_ID} ({ROWS} rows, predictive, simulated carrier) dials from the first "
                f"one-minute tick; curl -s {auth} {runtime.api_url}/campaigns/{CAMPAIGN_ID}/metrics")
    return (f"  Outbound:     campaign {CAMPAIGN_ID} ({ROWS} rows, predictive, simulated carrier) is {status}, not dialing; "
            f"start it: curl -s -X POST {auth} {runtime.api_url}/campaigns/{CAMPAIGN_ID}/start")
