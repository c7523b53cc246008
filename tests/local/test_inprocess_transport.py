"""local.inprocess_transport: this process's clients reach the embedded moto server's app without HTTP,
with the same answers as over HTTP; other endpoints are left alone."""
from __future__ import annotations

import io
import logging
import socket
import threading

import boto3
import pytest
from botocore.config import Config

from local import inprocess_transport, moto_patches, moto_server
from local.simulation import NO_ANSWER, ApiClient


@pytest.fixture(scope="module")
def endpoint():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto_patches.apply()
    ep = moto_server.ensure_started()
    saved = dict(inprocess_transport._routes)  # noqa: SLF001 - restored after (a runtime may have installed it)
    yield ep
    with inprocess_transport._lock:  # noqa: SLF001
        inprocess_transport._routes.clear()  # noqa: SLF001
        inprocess_transport._routes.update(saved)  # noqa: SLF001


def _client(endpoint: str, service: str):
    return boto3.session.Session().client(
        service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing", config=Config(retries={"total_max_attempts": 1}))


def _exercise(endpoint: str, tag: str) -> list:
    """A few calls of several protocols (JSON, REST-XML with a unicode key and metadata, query, errors)."""
    out: list = []
    ddb = _client(endpoint, "dynamodb")
    table = f"inproc-{tag}"
    ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                                 {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    for i in range(3):
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"S": str(i)}, "n": {"N": str(i)}})
    out.append(ddb.query(TableName=table, KeyConditionExpression="pk = :p",
                         ExpressionAttributeValues={":p": {"S": "a"}}, Limit=2)["Items"])
    try:
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"S": "0"}},
                     ConditionExpression="attribute_not_exists(pk)")
    except ddb.exceptions.ConditionalCheckFailedException as exc:
        out.append(exc.response["Error"]["Code"])
    try:
        ddb.get_item(TableName=f"missing-{tag}", Key={"pk": {"S": "a"}})
    except ddb.exceptions.ResourceNotFoundException as exc:
        out.append(exc.response["Error"]["Code"])
    s3 = _client(endpoint, "s3")
    bucket = f"inproc-bucket-{tag}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a b/ü_1.txt", Body=io.BytesIO(b"hello"), Metadata={"my_meta": "v"})
    got = s3.get_object(Bucket=bucket, Key="a b/ü_1.txt")
    out.append((got["Body"].read(), got["Metadata"]))
    out.append([o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]])
    sqs = _client(endpoint, "sqs")
    url = sqs.create_queue(QueueName=f"inproc-{tag}")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hi")
    out.append(sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"])
    kinesis = _client(endpoint, "kinesis")
    stream = f"inproc-{tag}"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    put = kinesis.put_record(StreamName=stream, Data=b"\x00event \xe2\x82\xac", PartitionKey="k")
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=put["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    out.append([(r["Data"], r["PartitionKey"]) for r in kinesis.get_records(ShardIterator=iterator)["Records"]])
    try:
        kinesis.describe_stream(StreamName=f"missing-{tag}")
    except kinesis.exceptions.ResourceNotFoundException as exc:
        out.append(exc.response["Error"]["Code"])
    return out


def test_same_answers_in_process_as_over_http(endpoint):
    inprocess_transport.uninstall()
    over_http = _exercise(endpoint, "http")
    before, direct_before = inprocess_transport.STATS["requests"], inprocess_transport.STATS["direct"]
    inprocess_transport.install(endpoint, moto_server.app())
    in_process = _exercise(endpoint, "inproc")
    assert in_process == over_http
    assert over_http[0] == [{"pk": {"S": "a"}, "sk": {"S": "0"}, "n": {"N": "0"}},
                            {"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "1"}}]
    assert over_http[1:3] == ["ConditionalCheckFailedException", "ResourceNotFoundException"]
    assert over_http[-2:] == [[(b"\x00event \xe2\x82\xac", "k")], "ResourceNotFoundException"]
    # every call of the second run went through the app directly (19 calls, botocore adds none), the
    # DynamoDB and Kinesis ones (7 + 5) straight to their response class, without Flask
    assert inprocess_transport.STATS["requests"] - before == 19
    assert inprocess_transport.STATS["direct"] - direct_before == 12


def test_the_localhost_spelling_is_routed_too(endpoint):
    inprocess_transport.install(endpoint, moto_server.app())
    localhost = endpoint.replace("127.0.0.1", "localhost")
    before = inprocess_transport.STATS["requests"]
    _client(localhost, "sqs").list_queues()
    assert inprocess_transport.STATS["requests"] == before + 1


def test_other_endpoints_are_left_to_http(endpoint):
    inprocess_transport.install(endpoint, moto_server.app())
    port = int(endpoint.rsplit(":", 1)[1])

    class Req:
        method = "POST"
        headers: dict = {}
        body = b""

    for url in (f"http://127.0.0.1:{port + 1}/", f"http://127.0.0.1:{port}0/", "https://dynamodb.us-east-1.amazonaws.com/"):
        req = Req()
        req.url = url  # type: ignore[attr-defined]
        assert inprocess_transport._before_send(request=req) is None  # noqa: SLF001
    inprocess_transport.uninstall()
    req = Req()
    req.url = endpoint + "/"  # type: ignore[attr-defined]
    assert inprocess_transport._before_send(request=req) is None  # noqa: SLF001


def test_environ_follows_the_servers_header_rules():
    env = inprocess_transport.wsgi_environ(
        "PUT", "http://127.0.0.1:5000/b/a%20b?x=1",
        [("Content-Type", "text/plain"), ("X-Amz-Meta-My_Meta", "v"), ("X-Amz-Target", "T"), ("Host", "127.0.0.1:5000")],
        b"abc")
    assert env["PATH_INFO"] == "/b/a b" and env["QUERY_STRING"] == "x=1" and env["RAW_URI"] == "/b/a%20b?x=1"
    assert env["CONTENT_TYPE"] == "text/plain" and env["CONTENT_LENGTH"] == "3"
    assert env["HTTP_X_AMZ_TARGET"] == "T" and env["HTTP_HOST"] == "127.0.0.1:5000"
    # werkzeug drops underscored headers; moto's handler keeps them with their spelling
    assert env["HTTP_X_AMZ_META_MY_META"] == "v"
    assert env["moto.preserved_header_names"]["HTTP_X_AMZ_META_MY_META"] == "X-Amz-Meta-My_Meta"
    assert env["wsgi.input"].read() == b"abc"


def test_a_file_body_is_read_and_left_where_it_was():
    body = io.BytesIO(b"0123456789")
    body.seek(2)
    assert inprocess_transport._body_bytes(body) == b"23456789"  # noqa: SLF001
    assert body.tell() == 2


def test_api_client_says_no_answer_instead_of_raising():
    """An overloaded API (no answer within the timeout) must not kill a simulated agent's thread."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    accepted: list = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    try:
        status, body = ApiClient(f"http://127.0.0.1:{server.getsockname()[1]}", "k", timeout_s=0.3).call("GET", "/x")
        assert status == NO_ANSWER and "timed out" in body
    finally:
        server.close()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: connection refused
    assert ApiClient(f"http://127.0.0.1:{port}", "k", timeout_s=0.3).call("GET", "/x")[0] == NO_ANSWER


def test_a_failure_inside_the_emulation_is_a_500_as_over_http_not_a_raw_exception(caplog):
    """Over HTTP moto's server answers its own bugs with a 500 (botocore raises ClientError); in process
    the same, and the failure is logged."""
    def broken(environ, start_response):  # noqa: ANN001, ANN202
        raise AttributeError("'NoneType' object has no attribute 'callback_pool_manager'")

    with caplog.at_level(logging.ERROR, logger="local.inprocess_transport"):
        status, headers, body = inprocess_transport.call_app(broken, "POST", "http://127.0.0.1:1/", [], b"{}")
    assert status == 500 and b"Internal Server Error" in body and dict(headers)["Content-Type"].startswith("text/html")
    assert "the embedded AWS emulation failed" in caplog.text


def test_requests_to_the_embedded_moto_carry_the_signature_shape_without_signing(endpoint):
    """moto reads the credential scope (service, region) and the access key (the account); nothing here
    checks the signature, so it is not computed. Any other endpoint is signed as before."""
    inprocess_transport.install(endpoint, moto_server.app())
    seen: list[dict] = []

    def capture(request, **_):
        seen.append({k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()})

    session = boto3.session.Session()
    session.events.register_first("before-send.dynamodb", capture)
    ddb = session.client("dynamodb", endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id="AKIDLOCAL",
                         aws_secret_access_key="s", aws_session_token="tok")
    ddb.list_tables()
    auth = seen[-1]["Authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDLOCAL/") and "/eu-west-1/dynamodb/aws4_request" in auth
    assert auth.endswith("Signature=" + "0" * 64)
    assert seen[-1]["X-Amz-Security-Token"] == "tok" and seen[-1]["X-Amz-Date"][:8] in auth

    # another endpoint (answered by a stub before it is sent): a real SigV4 signature
    from botocore.awsrequest import AWSResponse

    other = boto3.session.Session()
    other.events.register_first("before-send.dynamodb", capture)
    other.events.register("before-send.dynamodb", lambda request, **_: AWSResponse(
        request.url, 200, {}, inprocess_transport._RawBody(b'{"TableNames": []}')))  # noqa: SLF001
    other.client("dynamodb", endpoint_url="http://127.0.0.1:9", region_name="eu-west-1",
                 aws_access_key_id="AKIDLOCAL", aws_secret_access_key="s").list_tables()
    signature = seen[-1]["Authorization"].rsplit("Signature=", 1)[1]
    assert len(signature) == 64 and signature != "0" * 64
