"""local.moto_patches 20-22 (less CPU per call, same answers) and the collector setting of local.memory_release."""
from __future__ import annotations

import gc
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local import memory_release, moto_patches
from local.testing import examples


@pytest.fixture(scope="module", autouse=True)
def patched():
    moto_patches.apply()
    assert moto_patches.problems(include_version=False) == []


# -- patch 20: a JSONPath text parsed once -----------------------------------------------------------------

def test_a_jsonpath_text_is_parsed_once_and_reads_the_same(monkeypatch):
    from moto.stepfunctions.parser.asl.utils import json_path

    data = {"a": {"b": [1, {"c": "x"}]}, "list": [1, 2, 3], "n": None}
    paths = ["$.a.b[1].c", "$.a.b[0]", "$.list[*]", "$.list[1:]", "$.n", "$", "$.missing"]

    def answers() -> list:
        out = []
        for path in paths * 2:  # each text twice: the kept parse is read again
            try:
                out.append(json_path.extract_json(path, data))
            except json_path.NoSuchJsonPathError as exc:
                out.append(str(exc))
        return out

    assert json_path.parse("$.a.b[1].c") is json_path.parse("$.a.b[1].c")  # kept per text
    patched = answers()
    monkeypatch.setattr(json_path, "parse", moto_patches._originals_jsonpath_parse[json_path.__name__])  # noqa: SLF001
    assert answers() == patched


def test_a_jsonpath_that_does_not_parse_fails_every_time():
    from moto.stepfunctions.parser.asl.utils import json_path

    for _ in range(2):
        with pytest.raises(Exception):  # noqa: B017 - jsonpath_ng's own error, as before the patch
            json_path.parse("$.[[[")


def test_the_result_path_module_keeps_its_parses_too():
    from moto.stepfunctions.parser.asl.component.common.path import result_path

    assert result_path.parse("$.x.y") is result_path.parse("$.x.y")


# -- patch 21: request ids ---------------------------------------------------------------------------------

def test_request_ids_are_52_characters_of_mosts_alphabet_and_follow_its_seed():
    from moto.moto_api._internal import mock_random
    from moto.utilities import aws_headers

    headers: dict = {}
    rid = aws_headers.gen_amzn_requestid_long(headers)
    assert len(rid) == 52 and set(rid) <= set(string.ascii_letters + string.digits)
    assert headers == {"x-amzn-requestid": rid}
    mock_random.seed(7)
    first = [moto_patches.fast_request_id() for _ in range(3)]
    mock_random.seed(7)
    assert [moto_patches.fast_request_id() for _ in range(3)] == first  # moto's seed makes them repeatable
    assert len(set(first)) == 3


# -- patch 22: update expressions validated in linear time, same answers -----------------------------------

_NAMES = ["#a", "#b", "#c", "#a.#b", "#b[0]", "#k"]  # #k is the table's hash key


def _expression(clauses: list[tuple[str, list[str]]]) -> str:
    parts = []
    for kind, paths in clauses:
        if kind == "SET":
            parts.append("SET " + ", ".join(f"{p} = :v" for p in paths))
        elif kind == "ADD":
            parts.append("ADD " + ", ".join(f"{p} :n" for p in paths))
        elif kind == "REMOVE":
            parts.append("REMOVE " + ", ".join(paths))
        else:
            parts.append("DELETE " + ", ".join(f"{p} :s" for p in paths))
    return " ".join(parts)


def _validate(expression: str):
    """The validated tree's text, or the error's type and message (moto's answer to UpdateItem)."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator

    class Table:
        table_key_attrs = ["k"]
        attribute_keys = ["k"]
        attr: list = []

    item = Item(DynamoType({"S": "key"}), None, attrs={"k": {"S": "key"}, "a": {"M": {"b": {"N": "1"}}},
                                                        "b": {"L": [{"N": "1"}]}, "c": {"NS": ["1"]}})
    try:
        tree = UpdateExpressionValidator(
            UpdateExpressionParser.make(expression),
            expression_attribute_names={"#a": "a", "#b": "b", "#c": "c", "#k": "k"},
            expression_attribute_values={":v": {"S": "v"}, ":n": {"N": "2"}, ":s": {"NS": ["1"]}},
            item=item, table=Table()).validate()
        return "ok", repr(tree.to_str() if hasattr(tree, "to_str") else type(tree).__name__)
    except Exception as exc:  # noqa: BLE001 - the error is the answer compared
        return type(exc).__name__, str(exc)


def _unpatched(monkeypatch) -> None:
    from moto.dynamodb.parsing import ast_nodes, validators

    originals = moto_patches._originals_clause_finding  # noqa: SLF001
    monkeypatch.setattr(ast_nodes.Node, "find_clauses", originals["find_clauses"])
    monkeypatch.setattr(ast_nodes.DepthFirstTraverser, "process", originals["process"])
    monkeypatch.setattr(ast_nodes.DepthFirstTraverser, "nodes_to_be_processed", originals["nodes_to_be_processed"])
    monkeypatch.setattr(ast_nodes.DepthFirstTraverser, "traverse_node_recursively", originals["traverse_node_recursively"])
    for name in moto_patches._CLAUSE_VALIDATORS:  # noqa: SLF001
        monkeypatch.setattr(getattr(validators, name), "traverse", originals[name])
    from moto.dynamodb.parsing import expressions

    parse = moto_patches._originals_update_parse  # noqa: SLF001 - patch 24's originals
    monkeypatch.setattr(expressions.UpdateExpressionParser, "make", parse["make"])
    monkeypatch.setattr(validators, "deepcopy", parse["deepcopy"])


clauses = st.lists(
    st.tuples(st.sampled_from(["SET", "ADD", "REMOVE", "DELETE"]),
              st.lists(st.sampled_from(_NAMES), min_size=1, max_size=4)),
    min_size=1, max_size=4)


@settings(max_examples=examples(150), deadline=None)
@given(clauses)
def test_update_expressions_get_the_same_answer_as_unpatched_moto(generated):
    expression = _expression(generated)
    patched_answer = _validate(expression)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _unpatched(monkeypatch)
        assert _validate(expression) == patched_answer


def _dump(node, parent=None):
    """A parsed tree as data: each node's class, type, children and whether its parent is the node above."""
    from moto.dynamodb.parsing.ast_nodes import Node

    if not isinstance(node, Node):
        return ("leaf", type(node).__name__, node)
    return (type(node).__name__, node.type, node.parent is parent,
            [_dump(child, node) for child in node.children or []])


@settings(max_examples=examples(100), deadline=None)
@given(clauses)
def test_the_plain_copy_of_a_parsed_update_is_deepcopy_s(generated):
    import copy

    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    try:
        tree = UpdateExpressionParser.make(_expression(generated))
    except Exception:  # noqa: BLE001 - not a valid expression: nothing to copy
        return
    plain, deep = moto_patches.copy_update_tree(tree), copy.deepcopy(tree)
    assert _dump(plain) == _dump(deep) == _dump(tree)
    assert plain is not tree and plain.children[0] is not tree.children[0]


def test_a_tree_with_a_foreign_parent_link_is_deep_copied_as_before():
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    tree = UpdateExpressionParser.make("SET #a = :v")
    odd = UpdateExpressionParser.make("REMOVE #b")
    tree.children[0].parent = odd  # not the tree's own structure: deepcopy follows it, so does the patch
    copied = moto_patches.copy_update_tree(tree)
    assert copied.children[0].parent is not odd and _dump(copied.children[0].parent) == _dump(odd)


def test_an_update_expression_is_parsed_once_per_text():
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    assert UpdateExpressionParser.make("SET #z = :z") is UpdateExpressionParser.make("SET #z = :z")
    for _ in range(2):  # a syntax error is raised every time, not kept
        with pytest.raises(Exception):  # noqa: B017 - moto's own error, as before
            UpdateExpressionParser.make("SET = =")


def test_the_known_errors_are_moto_s():
    assert _validate("SET #a = :v, #a = :v")[0] == "DuplicateUpdateExpression"
    assert _validate("SET #a = :v SET #b = :v")[0] == "TooManyClauses"
    assert _validate("SET #k = :v")[0] in ("UpdateHashRangeKeyException", "MockValidationException")
    assert _validate("SET #a = :v, #b = :v REMOVE #a")[0] == "DuplicateUpdateExpression"
    assert _validate("SET #b = :v ADD #c :s")[0] == "ok"


def test_a_long_update_through_dynamodb_still_writes_what_it_says(tmp_path):
    from moto import mock_aws
    import boto3

    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        names = {f"#n{i}": f"g{i}" for i in range(30)} | {f"#c{i}": f"c{i}" for i in range(10)}
        values = {f":v{i}": {"N": str(i)} for i in range(30)} | {":one": {"N": "1"}}
        expression = ("SET " + ", ".join(f"#n{i} = :v{i}" for i in range(30))
                      + " ADD " + ", ".join(f"#c{i} :one" for i in range(10)))
        for _ in range(2):
            ddb.update_item(TableName="t", Key={"pk": {"S": "q"}}, UpdateExpression=expression,
                            ExpressionAttributeNames=names, ExpressionAttributeValues=values)
        item = ddb.get_item(TableName="t", Key={"pk": {"S": "q"}})["Item"]
    assert item["g29"] == {"N": "29"} and item["c9"] == {"N": "2"} and len(item) == 41


# -- the collector's young generation while a long run's memory releaser runs ------------------------------

def test_the_releaser_raises_the_young_generation_threshold_and_puts_it_back():
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    releaser = memory_release.MemoryReleaser(3600).start()
    try:
        assert gc.get_threshold()[0] == max(before[0], memory_release.YOUNG_GENERATION_THRESHOLD)
        assert gc.get_threshold()[1:] == before[1:]
        # what the process held at the start is out of every collection's walk while it runs
        assert gc.get_freeze_count() > 1000
    finally:
        releaser.stop()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


# -- patch 23: item sizes and answers walked without copies ------------------------------------------------

_scalars = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=8)),
    st.builds(lambda n: {"N": str(n)}, st.integers(-10**6, 10**6) | st.decimals(allow_nan=False, allow_infinity=False, places=3)),
    st.builds(lambda b: {"B": b}, st.binary(max_size=6)),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda xs: {"SS": xs}, st.lists(st.text(max_size=4), min_size=1, max_size=3, unique=True)),
    st.builds(lambda xs: {"NS": [str(x) for x in xs]}, st.lists(st.integers(0, 999), min_size=1, max_size=3, unique=True)),
    st.builds(lambda xs: {"BS": xs}, st.lists(st.binary(min_size=1, max_size=3), min_size=1, max_size=3, unique=True)),
)
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.builds(lambda xs: {"L": xs}, st.lists(inner, max_size=3)),
    st.builds(lambda m: {"M": m}, st.dictionaries(st.text(max_size=5), inner, max_size=3))), max_leaves=12)


@settings(max_examples=examples(200), deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=6), _values, min_size=1, max_size=5))
def test_item_sizes_and_answers_are_moto_s(attrs):
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.models.utilities import dynamo_to_dict

    original_size = moto_patches._originals_dynamo_walks["size"]  # noqa: SLF001
    item = Item(DynamoType({"S": "h"}), None, attrs={"pk": {"S": "h"}, **attrs})
    for value in item.attrs.values():
        assert moto_patches.dynamo_size(value) == original_size(value)
    assert item.size() == sum(len(k.encode()) + original_size(v) for k, v in item.attrs.items())
    answer = {"Items": [item.to_json()["Attributes"], item], "Count": 2, "Item": item, "n": None}
    assert moto_patches.fast_dynamo_to_dict(answer) == dynamo_to_dict(answer)
    # patch 8 writes a DynamoResult's answer from its raw result now: the same JSON as from the converted one
    import json

    written = json.dumps(answer, separators=(",", ":"), default=moto_patches.dynamo_json_default)
    assert written == json.dumps(dynamo_to_dict(answer), separators=(",", ":"),
                                 default=moto_patches._blob_as_base64)  # noqa: SLF001


def test_a_dynamo_result_is_converted_only_for_moto_s_serializer():
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.responses import DynamoResult

    value = DynamoType({"M": {"b": {"N": "1"}}})
    result = DynamoResult({"Item": {"a": value}})
    assert result.result["Item"]["a"] is value  # as the handler made it (patch 8 writes it as is)
    moto_patches.converted_result(result)
    assert result.result == {"Item": {"a": {"M": {"b": {"N": "1"}}}}}
    moto_patches.converted_result(result)  # once only
    assert result.result == {"Item": {"a": {"M": {"b": {"N": "1"}}}}}


# -- patch 25: index queries read maps kept up to date ---------------------------------------------------

def test_index_queries_answer_as_the_walk_does_after_every_kind_of_write():
    """Random writes of every kind (puts, updates moving an item between index values or out of the index,
    deletes, batch writes, transactions, cancelled transactions) interleaved with index Queries: each Query
    answers the same with the kept maps as with maps built afresh by walking the table."""
    import random

    import boto3
    from moto import mock_aws

    rng = random.Random(25)
    values = ["q1", "q2", "q3"]
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(
            TableName="c", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "w", "t")],
            GlobalSecondaryIndexes=[{"IndexName": "waiting", "KeySchema": [{"AttributeName": "w", "KeyType": "HASH"},
                                                                            {"AttributeName": "t", "KeyType": "RANGE"}],
                                     "Projection": {"ProjectionType": "ALL"}}])

        def key(i: int) -> dict:
            return {"pk": {"S": f"p{i % 7}"}, "sk": {"S": f"s{i}"}}

        def query(value: str) -> list:
            return ddb.query(TableName="c", IndexName="waiting", KeyConditionExpression="w = :w",
                             ExpressionAttributeValues={":w": {"S": value}})["Items"]

        for step in range(300):
            i, value = rng.randrange(40), rng.choice(values)
            kind = rng.choice(["put", "update", "remove", "delete", "batch", "transact", "cancelled"])
            if kind == "put":
                ddb.put_item(TableName="c", Item={**key(i), "w": {"S": value}, "t": {"S": f"{step:05d}"}})
            elif kind == "update":
                ddb.update_item(TableName="c", Key=key(i), UpdateExpression="SET w = :w, t = :t",
                                ExpressionAttributeValues={":w": {"S": value}, ":t": {"S": f"{step:05d}"}})
            elif kind == "remove":
                ddb.update_item(TableName="c", Key=key(i), UpdateExpression="REMOVE w")
            elif kind == "delete":
                ddb.delete_item(TableName="c", Key=key(i))
            elif kind == "batch":
                ddb.batch_write_item(RequestItems={"c": [
                    {"PutRequest": {"Item": {**key(i), "w": {"S": value}, "t": {"S": "b"}}}},
                    {"DeleteRequest": {"Key": key(i + 1)}}]})
            else:
                items = [{"Put": {"TableName": "c", "Item": {**key(i), "w": {"S": value}, "t": {"S": "x"}}}},
                         {"Update": {"TableName": "c", "Key": key(i + 2), "UpdateExpression": "SET w = :w, t = :t",
                                     "ExpressionAttributeValues": {":w": {"S": value}, ":t": {"S": "y"}}}}]
                if kind == "cancelled":  # the last element fails: nothing of it stays
                    items.append({"ConditionCheck": {"TableName": "c", "Key": key(99),
                                                     "ConditionExpression": "attribute_exists(pk)"}})
                try:
                    ddb.transact_write_items(TransactItems=items)
                except ddb.exceptions.TransactionCanceledException:
                    assert kind == "cancelled"
            asked = rng.choice(values)
            kept = query(asked)
            moto_patches._index_maps.clear()  # noqa: SLF001 - the same Query from maps built by walking the table
            assert query(asked) == kept, (step, kind)
        assert moto_patches._index_maps  # noqa: SLF001 - the maps were in use


# -- patch 26: a table Query's sort key condition applied before moto sorts the partition -------------------

_CONDITIONS = ["sk = :a", "sk < :a", "sk <= :a", "sk > :a", "sk >= :a", "sk BETWEEN :a AND :b", "begins_with(sk, :a)"]


@settings(max_examples=examples(100), deadline=None)
@given(kind=st.sampled_from(["S", "N"]), keys=st.lists(st.integers(0, 60), min_size=0, max_size=40, unique=True),
       condition=st.sampled_from(_CONDITIONS), a=st.integers(0, 60), b=st.integers(0, 60),
       forward=st.booleans(), limit=st.one_of(st.none(), st.integers(1, 7)))
def test_table_queries_with_a_sort_key_condition_answer_as_moto_does(kind, keys, condition, a, b, forward, limit):
    import boto3
    from moto import mock_aws

    if kind == "N" and condition.startswith("begins_with"):
        condition = "sk >= :a"  # begins_with is for strings and binaries only
    value = (lambda n: {"S": f"{n:02d}#x"}) if kind == "S" else (lambda n: {"N": str(n)})
    a, b = min(a, b), max(a, b)
    names = {":a": value(a) if not condition.startswith("begins_with") else {"S": f"{a:02d}"[:1]}}
    if "BETWEEN" in condition:
        names[":b"] = value(b)

    def pages() -> list:
        out, start = [], None
        while True:
            request = {"TableName": "t", "KeyConditionExpression": f"pk = :p AND {condition}",
                       "ExpressionAttributeValues": {":p": {"S": "p"}, **names}, "ScanIndexForward": forward}
            if limit:
                request["Limit"] = limit
            if start:
                request["ExclusiveStartKey"] = start
            answer = ddb.query(**request)
            out.append((answer["Items"], answer["Count"], answer["ScannedCount"], answer.get("LastEvaluatedKey")))
            start = answer.get("LastEvaluatedKey")
            if not start:
                return out

    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                                   {"AttributeName": "sk", "KeyType": "RANGE"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                               {"AttributeName": "sk", "AttributeType": kind}],
                         BillingMode="PAY_PER_REQUEST")
        for n in keys:
            ddb.put_item(TableName="t", Item={"pk": {"S": "p"}, "sk": value(n), "v": {"N": str(n)}})
            ddb.put_item(TableName="t", Item={"pk": {"S": "other"}, "sk": value(n)})
        filtered = pages()
        with pytest.MonkeyPatch.context() as unpatched:
            unpatched.setattr(moto_patches, "_range_filter", lambda arguments: None)
            walked = pages()
    assert filtered == walked


def _string_keyed_table(ddb, name: str) -> None:  # noqa: ANN001
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")


def test_a_sort_key_condition_without_limit_is_applied_before_moto_sorts(monkeypatch):
    import boto3
    from moto import mock_aws

    tested: list = []
    real = moto_patches._range_filter  # noqa: SLF001

    def spy(arguments):
        test = real(arguments)
        return None if test is None else (lambda value: tested.append(value) or test(value))

    monkeypatch.setattr(moto_patches, "_range_filter", spy)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        _string_keyed_table(ddb, "t")
        for n in range(50):
            ddb.put_item(TableName="t", Item={"pk": {"S": "day"}, "sk": {"S": f"{n:013d}#agent"}})
        between = {"TableName": "t", "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
                   "ExpressionAttributeValues": {":p": {"S": "day"}, ":a": {"S": f"{45:013d}#"}, ":b": {"S": f"{49:013d}#~"}}}
        assert [i["sk"]["S"][:13] for i in ddb.query(**between)["Items"]] == [f"{n:013d}" for n in range(45, 50)]
        assert len(tested) == 50  # each key tested once, 5 sorted
        tested.clear()
        assert ddb.query(**between, Limit=2)["Count"] == 2 and tested == []  # with a Limit: moto's walk


def test_a_query_of_a_missing_partition_or_a_hash_only_table_reads_no_other_item(monkeypatch):
    """Both went moto's way, which sorts every item of the table (`Table.all_items`) to find the partition: a
    pushed offer's Query for a live contact's messages (its history partition is written when it ends) made
    push_updates' CPU grow with the History table. The answers are moto's."""
    import boto3
    from moto import mock_aws
    from moto.dynamodb.models.table import Table

    sorted_tables: list = []
    real_all_items = Table.all_items
    monkeypatch.setattr(Table, "all_items", lambda self: sorted_tables.append(self.name) or real_all_items(self))
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        _string_keyed_table(ddb, "r")
        ddb.create_table(TableName="h", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        for n in range(30):
            ddb.put_item(TableName="r", Item={"pk": {"S": f"p{n % 3}"}, "sk": {"S": f"MSG#{n:02d}"}})
            ddb.put_item(TableName="h", Item={"pk": {"S": f"k{n}"}, "v": {"N": str(n)}})
        ddb.delete_item(TableName="r", Key={"pk": {"S": "p2"}, "sk": {"S": "MSG#02"}})

        def ask(table: str, condition: str, **values):
            answer = ddb.query(TableName=table, KeyConditionExpression=condition, ConsistentRead=True,
                               ExpressionAttributeValues={k: {"S": v} for k, v in values.items()})
            return answer["Items"], answer["Count"], answer["ScannedCount"], answer.get("LastEvaluatedKey")

        asked = [("r", "pk = :p AND begins_with(sk, :m)", {":p": "nobody", ":m": "MSG#"}),
                 ("r", "pk = :p", {":p": "nobody"}),
                 ("r", "pk = :p AND begins_with(sk, :m)", {":p": "p1", ":m": "MSG#1"}),
                 ("h", "pk = :p", {":p": "k7"}),
                 ("h", "pk = :p", {":p": "nobody"})]
        patched = [ask(table, condition, **values) for table, condition, values in asked]
        assert sorted_tables == []  # no Query walked a whole table
        assert patched[0] == patched[1] == ([], 0, 0, None)
        assert [i["sk"]["S"] for i in patched[2][0]] == ["MSG#10", "MSG#13", "MSG#16", "MSG#19"]
        assert patched[3][:3] == ([{"pk": {"S": "k7"}, "v": {"N": "7"}}], 1, 1) and patched[4] == ([], 0, 0, None)
        with monkeypatch.context() as unpatched:  # moto's own walk gives the same answers
            unpatched.setattr(Table, "query", moto_patches._original_query)  # noqa: SLF001
            assert [ask(table, condition, **values) for table, condition, values in asked] == patched
        assert sorted_tables  # (moto's walk did sort the tables)
