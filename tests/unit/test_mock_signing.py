"""tests/conftest.py signs cheaply under `mock_aws` only: moto's stubber reads the Authorization header's scope and
access key, so the header keeps its shape with a fixed signature; with no mock active SigV4 signs as before."""
from __future__ import annotations

import boto3
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from local.inprocess_transport import _RawBody


def _authorization(session: boto3.session.Session, seen: list[str]) -> None:
    session.events.register_first(
        "before-send.dynamodb", lambda request, **_: seen.append(request.headers["Authorization"].decode()))


def test_under_a_mock_the_header_keeps_its_shape_with_a_fixed_signature_and_moto_answers() -> None:
    seen: list[str] = []
    with mock_aws():
        session = boto3.session.Session()
        _authorization(session, seen)
        ddb = session.client("dynamodb", region_name="eu-west-1")
        ddb.create_table(TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        assert ddb.list_tables()["TableNames"] == ["t"]
    assert seen[-1].startswith("AWS4-HMAC-SHA256 Credential=") and "/eu-west-1/dynamodb/aws4_request" in seen[-1]
    assert "SignedHeaders=content-type;host;x-amz-date" in seen[-1]
    assert seen[-1].endswith("Signature=" + "0" * 64)


def test_with_no_mock_active_the_request_is_signed_for_real() -> None:
    seen: list[str] = []
    session = boto3.session.Session()
    _authorization(session, seen)
    session.events.register("before-send.dynamodb", lambda request, **_: AWSResponse(
        request.url, 200, {}, _RawBody(b'{"TableNames": []}')))  # answered here: nothing leaves the process
    session.client("dynamodb", endpoint_url="http://127.0.0.1:9", region_name="eu-west-1",
                   aws_access_key_id="AKIDTEST", aws_secret_access_key="s").list_tables()
    signature = seen[-1].rsplit("Signature=", 1)[1]
    assert len(signature) == 64 and signature != "0" * 64
