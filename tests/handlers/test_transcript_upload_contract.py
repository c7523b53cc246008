"""Through the real serve_api handler on moto (outside probe of `make run`): a transcript document whose fields have
the wrong types is a 422 naming the path (it was a 502), an offset past 7 days is a 422 naming it (a chat message
at 1e300 was stored as a 301-digit begin_ms), `true` is no offset; a chat's analysis and history carry what its
messages' redaction replaced; chat messages answer their time as ISO 8601 and epoch ms and take only ISO 8601."""
from __future__ import annotations

import json

import jsonschema
import pytest

from tests.lambda_harness import api, connected_contact

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

WORD = {"start_time": "0.1", "end_time": "0.2", "speaker_label": "spk_0"}
GOOD_WORD = {**WORD, "alternatives": [{"content": "hello"}]}
SEGMENT = {"speaker": "AGENT", "begin_ms": 0, "end_ms": 500, "text": "hello, this call is recorded"}
DAY_MS = 86_400_000


@pytest.mark.parametrize(("document", "field"), [
    ({"results": {"items": [{**WORD, "alternatives": 5}]}}, "results.items[0].alternatives"),
    ({"results": {"items": [{**WORD, "alternatives": {"a": 1}}]}}, "results.items[0].alternatives"),
    ({"results": {"items": [{"start_time": "0.1", "alternatives": [{"content": "hi"}]}], "speaker_labels": {"segments": 5}}},
     "results.speaker_labels.segments"),
    ({"results": {"channel_labels": {"channels": 5}, "items": []}}, "results.channel_labels.channels"),
    ({"results": {"channel_labels": {"channels": [{"channel_label": "ch_0", "items": 5}]}}},
     "results.channel_labels.channels[0].items"),
    ({"Transcript": [{"ParticipantId": "AGENT", "BeginOffsetMillis": 0, "EndOffsetMillis": 10, "Content": "hi"}],
      "Participants": 5}, "Participants"),
    ([{"participant_role": "CUSTOMER", "content": "hi", "absolute_time": 0},
      {"participant_role": "AGENT", "content": "hello", "absolute_time": 1e300}], "messages[1].absolute_time"),
    ({"segments": [SEGMENT], "connected_at_ms": 8 * DAY_MS}, "connected_at_ms"),
    ({"segments": [SEGMENT], "connected_at_ms": True}, "connected_at_ms"),
])
def test_a_malformed_transcript_is_a_422_naming_the_path_and_nothing_is_stored(tenant, env, document, field):
    cid = connected_contact(tenant, env)
    status, answer = api("POST", f"/contacts/{cid}/transcript", tenant.id, document)
    assert status == 422 and answer["field"] == field, answer
    assert "hello" not in json.dumps(answer)
    assert api("GET", f"/contacts/{cid}/analysis", tenant.id)[0] == 404


@pytest.mark.parametrize("document", [
    {"results": {"items": [GOOD_WORD, {**GOOD_WORD, "start_time": "0.5", "speaker_label": ["spk_0"]}]}},
    {"results": {"items": [GOOD_WORD, {"start_time": "0.5", "alternatives": [{"content": "there"}]}],
                 "speaker_labels": {"segments": [{"items": ["x"]}]}}},
    {"segments": [SEGMENT, {**SEGMENT, "begin_ms": True}]},
])
def test_an_entry_that_cannot_be_placed_is_dropped_and_counted(tenant, env, document):
    cid = connected_contact(tenant, env)
    status, summary = api("POST", f"/contacts/{cid}/transcript", tenant.id, document)
    assert status == 201 and summary["segments"] == 1, summary
    analysis = api("GET", f"/contacts/{cid}/analysis", tenant.id)[1]
    assert analysis["dropped_segments"] == 1 and [s["begin_ms"] for s in analysis["segments"]] in ([0], [100])


def _schema(tenant, name: str) -> dict:
    document = api("GET", "/openapi.json", tenant.id)[1]
    return {"$ref": f"#/components/schemas/{name}", "components": document["components"]}


def test_chat_messages_answer_iso_and_epoch_ms_as_their_schema_says_and_take_only_iso(tenant, env):
    cid = connected_contact(tenant, env, channel="CHAT")
    for lax in ("1796538600000", 1796538600000, True, "2026-12-06T06:30:00"):
        status, answer = api("POST", f"/contacts/{cid}/messages", tenant.id,
                             {"participant_role": "CUSTOMER", "content": "hi", "absolute_time": lax})
        assert status == 422 and answer["field"] == "absolute_time", (lax, answer)
        assert "1796538600000" not in json.dumps(answer)
    status, posted = api("POST", f"/contacts/{cid}/messages", tenant.id,
                         {"participant_role": "CUSTOMER", "content": "hi", "absolute_time": "2026-12-06T07:30:00+01:00"})
    assert status == 201, posted
    assert posted["absolute_time"] == "2026-12-06T06:30:00.000Z" and posted["absolute_time_ms"] == 1_796_538_600_000
    assert "redactions" not in posted
    status, page = api("GET", f"/contacts/{cid}/messages", tenant.id)
    assert status == 200 and page == [posted]
    schema = _schema(tenant, "ChatMessage")
    for answer in (posted, *page):
        jsonschema.validate(answer, schema)


def test_a_chats_analysis_and_history_carry_what_its_messages_redaction_replaced(tenant, env):
    from tests.handlers.test_history_handlers import serve_chat  # noqa: PLC0415 - the chat through every handler

    done = serve_chat(tenant, env, messages=[
        ("AGENT", "how can I help?"), ("CUSTOMER", "my card is 4111 1111 1111 1111"),
        ("CUSTOMER", "mail ana.lopez@example.com, ssn 078-05-1120")])
    cid = done["contact_id"]
    stored = [m["content"] for m in api("GET", f"/contacts/{cid}/messages", tenant.id)[1]]
    assert stored[1:] == ["my card is [CARD]", "mail [EMAIL], ssn [SSN]"], stored
    status, analysis = api("GET", f"/contacts/{cid}/analysis", tenant.id)
    assert status == 200 and analysis["redaction"]["counts"] == {"CARD": 1, "EMAIL": 1, "SSN": 1}, analysis["redaction"]
    texts = {s["index"]: s["text"] for s in analysis["segments"]}
    assert sorted(texts[m["segment"]][m["redacted_start"]:m["redacted_end"]] for m in analysis["redaction"]["receipt"]) \
        == ["[CARD]", "[EMAIL]", "[SSN]"]
    status, entry = api("GET", f"/contacts/{cid}/history", tenant.id)
    assert status == 200 and entry["analysis"]["redactions"] == 3, entry
