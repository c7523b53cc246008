"""The changes the local runtime makes to moto, in one place, each checked before it is applied.

1. Lambda: `moto.awslambda.models.LambdaFunction._invoke_lambda(self, event) -> (payload, errored,
   logs)` is the one seam every invocation path goes through (Invoke API, Step Functions tasks, SNS,
   moto's own event source mappings). Without Docker moto would only echo the payload back; the patch
   runs the real handler in-process (local.lambda_runtime) for functions the deployer registered and
   defers to moto for any other function. moto's `LambdaFunction.invoke` parses the payload first, and a
   payload Python's json cannot read (an integer of over 4,300 digits) was an HTTP 500 of the Invoke API;
   for a registered function the answer is now what the Lambda Python runtime gives: a function error,
   `Runtime.UnmarshalError`.
2. DynamoDB: moto's backend is not thread-safe (conditional writes under contention lose updates and
   let two writers "win" the same lock). The ThreadedMotoServer serves each request on its own thread,
   so every DynamoDB request is serialised with one lock around
   `moto.dynamodb.responses.DynamoHandler.call_action` (covers handlers, the Step Functions optimized
   DynamoDB integrations and the CLI alike, since all come in over HTTP).
3. Kinesis: moto's `Shard.put_record` says "not safe for concurrency" and it is not: concurrent
   PutRecords from handler threads get the same sequence number and one record silently replaces
   the other (measured: 199 of 200 records kept), and GetRecords iterates the shard's dict while
   puts mutate it. `KinesisResponse.call_action` gets its own lock, like DynamoDB's.
4. Step Functions: `moto.core.config.default_user_config["stepfunctions"]["execute_state_machine"]`
   switches moto to its ASL interpreter (there is no environment variable for it in server mode).
5. Step Functions service integrations: moto's port of the ASL engine dropped LocalStack's parameter
   normalisation (`StateTaskService._normalise_parameters` is a no-op), so Task parameters reach boto3
   exactly as written in the ASL. AWS maps them to the SDK's member names case-insensitively
   (`StateMachineArn` -> `stateMachineArn`); moto did not, and `aws-sdk:sfn:startExecution` /
   `states:startExecution` failed with `States.Runtime: 'StateMachineArn'` (measured). The patch maps
   parameter names onto the botocore input shape (recursively) for `aws-sdk:*` and `states:*` tasks,
   and gives their responses AWS's PascalCase member names with timestamps as ISO strings (a raw
   datetime in the output made DescribeExecution answer HTTP 500). Services whose members already are
   PascalCase (DynamoDB) are unchanged.

6. DynamoDB transactions without table copies: moto's `DynamoDBBackend.transact_write_items` deep-copies
   every table a transaction names before it writes (its rollback is "put the copies back"): O(table) time
   and memory per TransactWriteItems, and the copies outlived the call (point 7). The patch is moto's own
   function (pinned source, see `TRANSACT_WRITE_ITEMS_SHA256`) with an undo log instead: just before each
   write it keeps the item it replaces (a copy: UpdateItem mutates in place, or None when absent) and the
   length of the table's stream shard; a cancelled transaction puts those items back (newest first) and
   drops the stream records its writes added. Same checks, same cancellation reasons, same errors. One
   difference, on the side of all-or-nothing: a request with an element naming two operations
   (TransactWriteSingleOpException) also rolls back the elements before it (moto left them written).
   Condition checks see the other elements' writes exactly as before (moto's elements are sequential;
   the unicity check forbids two elements on one item anyway).
7. moto's instance tracker: `BaseModel.__new__` appends every model object moto ever creates to its
   class's `instances_tracked` list, for the /moto-api dashboard and S3's reset, and nothing removes them
   but a full reset. Every Item a Query, Scan or UpdateItem copies, every Table a transaction copied,
   every StreamRecord stayed reachable forever. Measured (the demo at 0.5 contacts/s, 150 s, process
   RSS): +5.1 MB per completed contact after warm-up, rising as tables grew (7.2 MB/contact overall);
   with patches 6 and 7: +0.44 MB per contact, flattening. The patch tracks weakly (`WeakInstances`:
   iterable like the list, holds weak references, drops dead ones once they are half of those held);
   objects that cannot be weakly referenced are kept as before. `reset_model_data()` puts
   plain lists back; the next instance of each class converts its list again. The classes a busy day
   makes by the thousand (`UNTRACKED_MODELS`: DynamoDB items, Kinesis records, CloudWatch datapoints)
   are not tracked at all: a weak reference and its callback cost ~150 B per object, more than a
   third of a small item, and every copy an update makes paid for one; only the dashboard lists them.

8. DynamoDB Query over a large table: moto's `Table.query` starts from `all_items()`, which sorts every
   item of the table, on every Query; with the demo's six weeks of history (~25,000 items) one Query cost
   ~0.3 s and GET /metrics/historical for a week 26 s. The patch hands `query` only the partition asked
   for (table queries; none when no item has that key, and the one item of a hash-only table: both went
   moto's way, and a pushed offer's Query for a live contact's messages sorted the whole History table, so
   push_updates' CPU grew with the run) or the items whose index hash key matches (index queries, found by walking the table:
   one comprehension, ~2.6 ms for 20,000 items, was ~12 ms with a call per item; the table grows all day);
   moto still checks and sorts what it gets, so results are identical. A Query's response is written as the JSON its result
   already is instead of moto's generic shape walker (~70 % of that request); so are the other item
   operations' (`FAST_JSON_OPERATIONS`: GetItem, PutItem, UpdateItem, Scan, BatchGetItem, TransactGetItems),
   each checked equal to the serializer's output; binary attribute values are written in base64 as the
   serializer writes blobs (before, an item with one went the generic way: at load ~680 UpdateItems a
   minute, a quarter of consume_contact_events' CPU). Checked against moto's
   source (`_QUERY_SOURCE_MARKERS`) before it is applied.

9. moto's server app finds the backend of every request again: `DomainDispatcherApplication.get_backend_for_host`
   lists moto's package folder (`list_of_moto_modules`: a listdir and ~170 isdir calls) and tries the URL
   patterns of every backend, for each request, under the app's one lock. Its answer depends on the host
   alone (a fixed module list and fixed patterns), so the patch remembers it per host. Pinned to the
   method's source (`GET_BACKEND_FOR_HOST_SHA256`); same answers (tests/local/test_moto_patches_backend_host.py).

10. moto's `BaseResponse.call_action` lists the response class's methods (`method_names_from_class`:
   `inspect.getmembers` over ~100 attributes) on every request to find the action's method: ~4 % of the
   runtime's CPU at load. The class's methods do not change once the patches are applied, so the list is
   kept per class (`moto.core.responses.method_names_from_class`, pinned `METHOD_NAMES_SHA256`).
11. Step Functions: moto's ASL engine parses the state machine's definition with ANTLR again for every
   execution (`ExecutionWorker._get_evaluation_entrypoint` -> `AmazonStateLanguageParser.parse`, ~0.3 s
   of CPU an execution here: ~10 % of the runtime's CPU at load). The patch keeps the parse tree per
   definition text (the 64 most recent) and builds the evaluation components from it afresh for each
   execution (moto's `Preprocessor`, as before: no component is shared between executions). Syntax errors
   are not kept (raised each time, as before). Pinned `ASL_PARSE_SHA256`.

13. Step Functions: moto's ASL engine makes a new boto3 client for every Lambda task and every service
   integration (`moto.stepfunctions.parser.asl.utils.boto_client.boto_client_for`): ~6 ms of CPU on a quiet
   machine, 20-50 ms at load, and a new client's models and hooks each time (at the busy-day bench's rate,
   several clients a contact). Its arguments do not depend on the execution (fixed fake credentials, the
   same config; `state_credentials` is ignored), so the patch keeps one client per (region, service,
   moto's port, whether moto's in-process stubber is on); botocore clients are thread-safe. Pinned
   `BOTO_CLIENT_FOR_SHA256`; the modules that imported the name get the patched one.

14. Kinesis shards: moto's `Shard` keeps every record ever put in a dict keyed by consecutive sequence
   numbers, and reads it from the start on every call: `put_record` lists all keys to find the last one
   (`get_max_sequence_number`), `get_records` walks every record to find those after the iterator's. Both
   grew with the stream (each of the 5 consumers' GetRecords on each put, for the whole run). The patch
   finds the first and last keys at the ends of the (ordered) dict and, while the keys are consecutive (as
   put_record makes them), reads records after a sequence number by index; otherwise moto's walk. Same
   records, same iterator, same MillisBehindLatest. Pinned `KINESIS_SHARD_SHA256`.
   Retention (a deviation from AWS's 24 h, see `trim_kinesis_shard`): the local pollers drop the records
   every consumer of the stream has delivered, keeping the newest `KINESIS_KEEP_READ` per shard for
   whoever reads the stream from outside (the AWS CLI), so a long run's memory does not grow with it.

15. Step Functions retention (off unless asked: `FINISHED_EXECUTIONS_KEPT`, set by `LocalRuntime
   (finished_executions_kept=...)`, which `python -m local` and the busy-day bench use): moto keeps every
   execution with its whole evaluation environment (history, states, the parsed program: ~30 KB each here,
   two executions a contact) and walks all of them on each SendTaskSuccess/Failure/Heartbeat; its ASL
   engine also lists every thread it ever started (`TMP_THREADS`, read by nothing). With a bound, once more
   than that many executions of a state machine have finished, the oldest finished ones are forgotten
   (DescribeExecution then answers ExecutionDoesNotExist, as after AWS's 90-day retention) and finished
   threads leave the list. A state machine's execution list is replaced, not changed in place, under a lock
   `start_execution` takes too: a SendTaskSuccess walking the old list misses no running execution.
   Pinned `EXECUTION_TERMINATED_SHA256`.


16. CloudWatch datapoints (`CLOUDWATCH_KEEP_PER_METRIC`): moto's Kinesis `PutRecord(s)` puts two CloudWatch
   datapoints (IncomingBytes, IncomingRecords) into `CloudWatchBackend.metric_data`, a list nothing ever
   trims: ~1 KB a put, several puts a contact, the whole run. Nothing local reads them (the product writes
   its metrics as EMF log lines; alarms are not emulated), but `aws cloudwatch get-metric-statistics` may.
   The patch keeps the newest `CLOUDWATCH_KEEP_PER_METRIC` datapoints of each metric (namespace, name,
   dimensions) once the list has grown past twice what the last trim left, so the trim is amortised
   O(1) a put. A deviation from AWS's 15 months. `put_metric_data` is serialised by a lock of its own
   (Kinesis already calls it under patch 3's). Pinned `CLOUDWATCH_PUT_SHA256` (put_metric_data +
   get_all_metrics: appends only, reads the list as is).

17. DynamoDB items built in linear time: moto's `Item.__init__` sets each attribute through
   `LimitedSizeDict.__setitem__`, which sums the size of every attribute already set to enforce the 400 KB
   item limit: O(attributes²) size walks per item, and every PutItem, transaction element and stream image
   builds one (~7 % of the handlers' CPU at load, their items having dozens of attributes). The patch
   builds the attributes in one pass and checks the total once: the same limit and the same
   `ItemSizeTooLarge` (sizes only grow as attributes are added, so the last check is the one that can
   fail). `LimitedSizeDict.__setitem__` itself (UpdateItem's SET) is unchanged. Pinned `ITEM_INIT_SHA256`.

18. DynamoDB Query sizes each candidate item twice (`(result_size + result.size()) > RESULT_SIZE_LIMIT`, then
   `result_size += result.size()`), each a recursive walk of the item (~5 % of the handlers' CPU at load).
   While patch 8's `query` runs (under patch 2's lock: no item changes meanwhile), `Item.size` remembers
   each item's size for that call only. Same sizes, same pages. Checked against moto's source
   (`_QUERY_SIZE_MARKERS`).

19. DynamoDB Query deep-copies every item it answers (`results = copy.deepcopy(results)` in `Table.query`)
   before projecting, filtering and writing them: ~6 % of the handlers' CPU at load (route_contact's query of
   available agents answers dozens of large items each time). Nothing on that path changes an item (index
   and expression projections build new Items, filters read) and the answer is written inside
   `call_action`, under patch 2's lock, so no write can change an item meanwhile. While patch 8's `query`
   runs, `table.py`'s `copy.deepcopy` of that list is a shallow list copy; every other deepcopy in
   moto's table module (and every other thread's) is unchanged. Its only caller is the Query response
   (checked: `_QUERY_DEEPCOPY_MARKER`).

20. Step Functions JSONPath: moto's ASL engine parses a JSONPath text with `jsonpath_ng` each time it
   evaluates one (`json_path.extract_json`, `ResultPath`), and `jsonpath_ng.parse` builds its PLY parser
   (tables, productions) anew for every call: ~20 parses an execution, ~3 % of the runtime's CPU at load. A
   parsed path is a tree of immutable nodes that `find`/`update_or_create` only read, so the patch keeps the
   parse per text (the 1,024 most recent) in the two modules that call it. Same paths, same errors (a text
   that fails to parse is not kept).
21. Request ids: every response carries a 52-character `x-amzn-requestid` that moto draws one character at
   a time (`get_random_string`: 52 `random.choice` calls, ~1 % of the runtime's CPU at load). The patch
   draws the same alphabet and length with one `choices` call of the same (seedable) `mock_random`.

22. DynamoDB update expressions validated in linear time: every node of moto's update-expression tree is an
   `UpdateExpression`, and two of its validators (`ActionCountValidator`, `OverlappingPathsValidator`) run
   `find_clauses` - a walk of the node's whole subtree - at every node: O(actions²). The live metrics'
   UpdateItem (~40 actions) spent ~13 ms validating, most of consume_contact_events' CPU. While either of
   those two traversals runs, `Node.find_clauses` remembers each node's answer for that traversal (it
   builds it from its children's, exactly as moto's does, in the same order), so each subtree is walked
   once. Same clauses, same errors, same order of checks. And every traverser (ten per validation) rebuilt
   its processing map - a dict of bound methods - twice per node it visited (`nodes_to_be_processed`,
   `process`, the former documented as "cached" but not): each traverser now builds it once (every
   `_processing_map` in moto is a constant of its instance), and walks the tree with moto's
   `traverse_node_recursively` ported as is (same order, the same `pre_processing_of_child` calls where a
   traverser has one, the live children list) minus the per-node method lookups.

23. DynamoDB sizes and answers without copies. `DynamoType.size` of a map wraps each value in a new
   `DynamoType` (whose constructor copies a map's or list's values again, level by level) just to ask its
   size, and every item a Query returns is sized (patch 18); `dynamo_to_dict`, which turns every answer
   (`DynamoResult`) into plain types, asks `isinstance`/`hasattr` of each value on the way down. route_contact's
   Query of 60 available agents cost ~35 ms of CPU, two thirds of it in these two walks. The patch ports both
   exactly - the same branches in the same order, the copies left out (a copy's size is its original's) and
   the common exact types (dict, list, str, numbers, non-binary `DynamoType`) tried first - and defers to
   moto's for anything else (binary values, subclasses, objects with `to_json`). And a `DynamoResult` no
   longer converts its result up front: patch 8 writes the answers it writes straight from the result (a
   `DynamoType` met on the way is written as the {type: value} the conversion makes of it); the result is
   converted only before moto's generic serializer writes it. Pinned
   `DYNAMO_SIZE_SHA256`, `DYNAMO_TO_DICT_SHA256`; checked equal on generated items in
   tests/local/test_moto_patches_cpu.py.

24. DynamoDB update expressions parsed once per text and copied plainly: moto parses an UpdateItem's
   expression twice per call (the response class checks the names and values used, the backend validates),
   then each validator deep-copies the tree (`copy.deepcopy` following every parent link): for the live
   metrics' ~40-action update, parsing and copying were ~35 % of the call. `UpdateExpressionParser.make`
   keeps the tree per text (the 256 most recent; its callers read it or hand it to a validator, which
   copies it before changing anything), and the validators' copy of a tree whose parent links are its own
   structure is made node by node (the same nodes, types, children and parents; leaves as `deepcopy` makes
   them); anything else is deep-copied as before. Pinned `UPDATE_PARSE_SHA256`.

25. DynamoDB index queries read an index kept up to date. Patch 8 hands an index Query the items whose
   index hash key matches, found by walking the whole table: the Contacts table grows all run (a contact and
   its routing decisions, ~10 items a contact), and ~10 index Queries a contact walk it, so a busy day's
   functions got slower by the minute (consume_contact_events 38 ms a batch in a 3-minute run, 65 ms over
   10 minutes; push_updates 17 -> 33 ms). The patch keeps, per table and per attribute an index Query has
   asked for, the items by that attribute's value (built by one walk on the first such Query) and brings the
   items a write request named up to date after the request (under patch 2's lock, so no Query sees the
   map between a write and its update): PutItem, UpdateItem, DeleteItem, BatchWriteItem and
   TransactWriteItems (a cancelled transaction's undo log puts items back within the request). Any other
   request that is not a read (PartiQL, table or backup operations) drops every map: they are built again.
   moto still checks and sorts what it gets, so answers are the same (checked against the walk after
   generated writes in tests/local/test_moto_patches_cpu.py). Code that writes into a table's items directly
   (local.demo_history's bulk load) calls `forget_index_maps(table)`.

26. DynamoDB table Queries with a sort key condition sort what they return, not the partition. moto sorts
   every item of the partition (`DynamoType.__lt__`, a Python call per comparison) and only then tests
   each against the condition. A day's partition grows all day: record_agent_activity and the live views
   read the agents' activity spans of the last minutes (`<tenant>#ACTIVITY#<day>`, sk BETWEEN), and that
   Query cost 1.8 ms of CPU in a busy day's first minute and 18 ms in its fifth. The patch hands moto only
   the partition's items that pass the same comparison function moto's loop applies afterwards
   (`get_comparison_func`, the range values' `cast_value`); the rest only passed through that loop unused,
   so answers and counts are the same. A Query with a Limit (moto answers a LastEvaluatedKey when any item
   follows the last match) or a legacy QueryFilter (its loop counts every item) gets the whole partition as
   before. One difference, toward AWS: moto's loop checks the 1 MB page size against items outside the
   range too; filtered, only against what it reads (as DynamoDB does). Checked: `_QUERY_RANGE_MARKER`;
   tested equal to moto's walk on generated partitions and conditions (tests/local/test_moto_patches_cpu.py).

27. DynamoDB items in less memory (a busy day keeps every contact's items for the whole run). moto's
   `DynamoType`, an attribute value, is a plain class: each value carried an instance dict beside its two
   attributes, ~100 B a value. The patch makes the same class with `__slots__ = ("type", "value")` and puts it
   wherever a moto module had imported the old one, first of all the patches. And a short scalar value (S or N
   of at most `SHARED_TEXT_MAX` characters, BOOL, NULL) is one object for every item, key and nested value
   that holds it (`_shared_leaf`, at most `SHARED_LEAVES_MAX` known, then forgotten at once): moto never
   changes a scalar value once built (an update puts a new one in; sets, lists and maps, which it changes in
   place, are never shared). The items of a 90-s busy run took 6.7 MB in moto, 3.6 MB with the patch. Pinned
   `DYNAMO_TYPE_SHA256` and `SHARED_LEAF_SOURCES` (every `.type =` / `.value =` in moto's DynamoDB code);
   tests/local/test_moto_patches_memory.py updates one of two items sharing values every way an update
   expression can and reads the other back unchanged.
28. The Step Functions parser imported without moto's Batch and EC2 models. Its Batch task service needs only
   `moto.batch.utils.JobStatus`, but importing that ran `moto.batch`'s package, which loads the Batch models
   and through them EC2's (region and instance-type tables): 0.7 s of the parser's 0.8 s, in every process
   that starts the runtime or collects the tests, for services the runtime never deploys.
   `import_step_functions_parser()` puts a bare `moto.batch` package (its real path, no `__init__` run) in
   `sys.modules` for the parser's import and takes it out again with the submodules loaded under it, so a
   later `import moto.batch` is moto's own; tests/local/test_moto_patches_parse_once.py checks both in a
   fresh process.
29. DynamoDB keys and ids shared as well (patch 27's shared values, longer and not interned). A contact's
   partition key (`<tenant>#CONTACT#<uuid>`, 49 characters) is in its CONTACT item, each DECISION item, its
   history ENTRY and the pointers, and its id in several attributes: each a copy of its own, decoded from its
   request (and two `DynamoType`s in each item: the item's key and its attribute). Patch 27's sharing stopped
   at 32 characters; names and values now share up to `SHARED_TEXT_MAX` (64) characters, the JSON documents
   (decisions, history records, activity spans: 100+ characters) still not. And a shared value is no longer
   `sys.intern`ed: the shared `DynamoType` is what items hold, and every interned value cost ~38 B in the
   interpreter's table for as long as an item held it, most of them unique (timestamps, sort keys). Measured
   with a busy day's items through boto3 into moto (per contact: its CONTACT saved 3 times, its DECISIONs, its
   ENTRY by UpdateItem, ~4 agent activity spans): 10.4 -> 9.6 KB retained a contact (tracemalloc). Same
   assumptions and pins as patch 27 (moto never changes a scalar `DynamoType`: `SHARED_LEAF_SOURCES`);
   `problems()` also checks that moto finds a partition by its key's value, not its object (one key object
   now serves several partitions and tables); tests/unit/test_moto_item_memory.py.
30. DynamoDB UpdateItem checks the item's size once. moto's `LimitedSizeDict.__setitem__` sums the size of every
   attribute the item has at each SET and ADD of an update expression (its 400 KB limit): O(attributes x
   actions) walks per update, ~2.4 % of the busy day's CPU (the live-metrics item: ~60 attributes, ~30 actions a
   write). While `UpdateExpressionExecutor.execute` runs (one update, on one thread) the sets skip the sum, and the
   item is measured once after its last action, as DynamoDB itself judges the item an update leaves (a REMOVE
   later in the same expression counts); over the limit, the item's attributes are put back as they were and
   moto's `ItemSizeTooLarge` is raised where it was (UpdateItem answers `ItemSizeToUpdateTooLarge` as before).
   An action's error puts them back too. What an action changed in place (a nested path, ADD or DELETE on a
   set) stays changed on an error, as moto leaves it; but such an update over the limit is refused now, as
   DynamoDB refuses it (moto measured the item only when a top-level attribute was set, and kept it).
   Pinned `UPDATE_EXECUTE_SHA256` (the executor's `execute` and `LimitedSizeDict.__setitem__`);
   tests/local/test_moto_update_size.py.
31. Cognito user pools share one signing key. moto's `CognitoIdpUserPool.__init__` reads its bundled JWK file and
   imports the RSA private key for every pool it creates (joserfc recovers the key's primes: ~0.1 s of CPU a
   pool), though every pool signs with that same key. Every deploy of the stack makes a pool (the runtime's
   start, each moto module of the test tiers): ~3.5 s of a `make test` run's CPU. The import is remembered per
   key document (the file's JSON): the same key object, as before the same key. tests/local/test_moto_patches.py.

Measured without patch 2 (tests/local/test_moto_guard.py does it with the patch): 16 threads racing
TransactWriteItems with a `version = :v` condition on the same item -> 2-5 of 40 items had two
"winners". With the lock: 0. (Plain conditional PutItem races did not reproduce here; transactions
do, and reservations are transactions.)

moto is pinned (requirements.txt); `problems()` lists what moved, and tests/local/test_moto_guard.py
fails with that list when an upgrade breaks an assumption.
"""
from __future__ import annotations

import base64
import collections
import copy
import functools
import hashlib
import inspect
import json
import re
import sys
import threading
import weakref
from pathlib import Path
from collections.abc import Callable, Mapping
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DYNAMODB_LOCK = threading.RLock()
KINESIS_LOCK = threading.RLock()
_applied = False
_apply_lock = threading.Lock()
_original_invoke: Any = None
_original_ddb_call_action: Any = None
_original_kinesis_call_action: Any = None
_originals_sfn: dict[str, Any] = {}
_previous_sfn_config: Any = None
_original_transact_write_items: Any = None
_original_base_model_new: Any = None
# sha256 of the source of moto's DynamoDBBackend.transact_write_items that patch 6 ports (moto 5.2.5).
# Any change upstream means the port must be redone: problems() says so.
TRANSACT_WRITE_ITEMS_SHA256 = "81db2cb7d94e39c9"
# sha256 of moto 5.2.5's DomainDispatcherApplication.get_backend_for_host (patch 9 memoises it per host).
GET_BACKEND_FOR_HOST_SHA256 = "1f41972c1e4e660f"
_original_get_backend_for_host: Any = None
# sha256 of moto 5.2.5's moto.core.utils.method_names_from_class (patch 10) and
# AmazonStateLanguageParser.parse (patch 11).
METHOD_NAMES_SHA256 = "9dbac89d082b655f"
ASL_PARSE_SHA256 = "a59a7d18760fb22e"
_original_method_names: Any = None
_original_asl_parse: Any = None
# sha256 of moto 5.2.5's StepFunctionsParserBackend.send_task_heartbeat + send_task_success +
# send_task_failure + _get_executions (patch 12 ports them).
TASK_CALLBACKS_SHA256 = "650d4faac18a97c9"
_TASK_CALLBACKS = ("send_task_heartbeat", "send_task_success", "send_task_failure")
_originals_task_callbacks: dict[str, Any] = {}
# sha256 of moto 5.2.5's moto.stepfunctions.parser.asl.utils.boto_client.boto_client_for (patch 13).
BOTO_CLIENT_FOR_SHA256 = "1f44dc2ac8aa2179"
_original_boto_client_for: Any = None
# sha256 of moto 5.2.5's kinesis Shard.get_records + put_record + get_min/max_sequence_number (patch 14).
KINESIS_SHARD_SHA256 = "9ca7967dd6192712"
_KINESIS_SHARD_METHODS = ("get_records", "put_record", "get_min_sequence_number", "get_max_sequence_number")
_originals_kinesis_shard: dict[str, Any] = {}
# Records every local consumer has delivered that a shard still keeps (patch 14's retention).
KINESIS_KEEP_READ = 500
# sha256 of moto 5.2.5's BaseExecutionWorkerCommunication.terminated (patch 15 runs after it).
EXECUTION_TERMINATED_SHA256 = "360372a6a57bf99b"
# Finished executions kept per state machine (patch 15); None: every one, as moto does.
FINISHED_EXECUTIONS_KEPT: int | None = None
_SFN_EXECUTIONS_LOCK = threading.RLock()
_originals_retention: dict[str, Any] = {}
# id(state machine) -> (a weak reference to it, its finished executions, oldest first): patch 15's count
_finished: dict[int, tuple[Any, collections.deque]] = {}
# sha256 of moto 5.2.5's CloudWatchBackend.put_metric_data + get_all_metrics (patch 16 trims after the first).
CLOUDWATCH_PUT_SHA256 = "b9974366e62e16c6"
# Datapoints kept per CloudWatch metric (patch 16): a few minutes of a busy stream's puts.
CLOUDWATCH_KEEP_PER_METRIC = 500
CLOUDWATCH_LOCK = threading.RLock()
_original_put_metric_data: Any = None
# sha256 of moto 5.2.5's dynamo_type Item.__init__ + LimitedSizeDict.__setitem__ (patch 17 ports them).
ITEM_INIT_SHA256 = "fc02f7fab7a521c3"
# moto's LimitedSizeDict limit ("between 409 and 410KB" measured by moto; its literal, checked in problems()).
ITEM_SIZE_LIMIT = 405000
# sha256 of moto 5.2.5's UpdateExpressionExecutor.execute + LimitedSizeDict.__setitem__ (patch 30 defers the sum).
UPDATE_EXECUTE_SHA256 = "345446149cf719e0"
_update_size = threading.local()  # patch 30: .deferred while an update expression executes on this thread
_originals_update_size: dict[str, Any] = {}
_original_item_init: Any = None
# sha256 of moto 5.2.5's DynamoType.size + DynamoType.__init__, and of dynamo_to_dict (patch 23 ports them).
DYNAMO_SIZE_SHA256 = "dd3afe77d5e0e5f5"
DYNAMO_TO_DICT_SHA256 = "80f600124c13ddcb"
_originals_dynamo_walks: dict[str, Any] = {}
# sha256 of moto 5.2.5's UpdateExpressionParser.make + Node.__init__ + Validator.__init__ (patch 24).
UPDATE_PARSE_SHA256 = "79170167e54c39db"
_originals_update_parse: dict[str, Any] = {}


def pinned_moto_version(requirements: Path = ROOT / "requirements.txt") -> str | None:
    for line in requirements.read_text().splitlines():
        m = re.match(r"^\s*moto(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)", line)
        if m:
            return m.group(1)
    return None


@functools.cache
def source_of(obj: Any) -> str:
    """inspect.getsource, once per object in a process: problems() reads ~50 of moto's functions, classes and
    modules (a class or a module is an AST walk of its file), ~0.4 s a call, and the suite calls it ~15 times.
    A function a test or a patch puts in place is another object, read afresh."""
    return inspect.getsource(obj)


def source_digest(*functions: Any) -> str:
    """What a patch is pinned to: the first 16 hex digits of the sha256 of moto's source it replaces."""
    return hashlib.sha256("".join(source_of(f) for f in functions).encode()).hexdigest()[:16]


# -- patch 28: the Step Functions parser without moto's Batch and EC2 models ---------------------------

_parser_import_lock = threading.Lock()


def import_step_functions_parser() -> None:
    """Import moto's Step Functions parser (idempotent); see patch 28 in the module doc."""
    if "moto.stepfunctions.parser.models" in sys.modules:
        return
    with _parser_import_lock:
        if "moto.batch" in sys.modules or "moto.stepfunctions.parser.models" in sys.modules:
            import moto.stepfunctions.parser.models  # noqa: F401
            return
        import importlib.util
        import types

        spec = importlib.util.find_spec("moto.batch")
        bare = types.ModuleType("moto.batch")
        bare.__path__ = list(spec.submodule_search_locations or [])  # its submodules import from the real folder
        bare.__spec__ = spec
        sys.modules["moto.batch"] = bare
        try:
            import moto.stepfunctions.parser.models  # noqa: F401
        except ImportError:  # the parser needs more of moto.batch than its utils now: moto's own import
            sys.modules.pop("moto.batch", None)
            import moto.stepfunctions.parser.models  # noqa: F401,F811
        finally:
            if sys.modules.get("moto.batch") is bare:
                # its submodules go too (the parser keeps what it took: JobStatus, a str enum): a later
                # `import moto.batch` is then moto's own, `moto.batch.utils` an attribute of it
                for name in [m for m in sys.modules if m == "moto.batch" or m.startswith("moto.batch.")]:
                    del sys.modules[name]


def problems(include_version: bool = True) -> list[str]:
    """Every moto internal the runtime relies on, checked. Empty list = all good."""
    out: list[str] = []
    try:
        import moto
    except ImportError as exc:  # pragma: no cover
        return [f"moto is not importable: {exc}"]
    import_step_functions_parser()  # patch 28: before anything below imports the parser
    pinned = pinned_moto_version()
    if include_version and pinned and moto.__version__ != pinned:
        out.append(f"moto {moto.__version__} is installed, requirements.txt pins {pinned}: re-check these patches")
    try:
        from moto.awslambda.models import LambdaFunction

        target = _original_invoke or LambdaFunction.__dict__.get("_invoke_lambda")
        if target is None:
            out.append("moto.awslambda.models.LambdaFunction._invoke_lambda is gone (the in-process Lambda seam)")
        else:
            params = list(inspect.signature(target).parameters)
            if params[:2] != ["self", "event"]:
                out.append(f"LambdaFunction._invoke_lambda signature changed: {params} (expected self, event)")
        invoke_src = source_of(LambdaFunction.invoke)
        if "self._invoke_lambda(" not in invoke_src:
            out.append("LambdaFunction.invoke no longer calls self._invoke_lambda")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto.awslambda.models.LambdaFunction not usable: {exc!r}")
    try:
        from moto.dynamodb import urls as ddb_urls
        from moto.dynamodb.responses import DynamoHandler

        if "call_action" not in DynamoHandler.__dict__:
            out.append("moto.dynamodb.responses.DynamoHandler.call_action is gone (the DynamoDB request path we lock)")
        routes = list(ddb_urls.url_paths.values())
        if not any(getattr(r, "__self__", None) is DynamoHandler for r in routes):
            out.append("moto.dynamodb.urls no longer routes requests through DynamoHandler.dispatch")
        from moto.core.responses import BaseResponse

        if not callable(getattr(BaseResponse, "call_action", None)):
            out.append("moto.core.responses.BaseResponse.call_action is gone")
        if "self.call_action()" not in source_of(BaseResponse._dispatch):
            out.append("moto.core.responses.BaseResponse._dispatch no longer calls self.call_action()")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto.dynamodb.responses.DynamoHandler not usable: {exc!r}")
    try:
        from moto.kinesis import urls as kinesis_urls
        from moto.kinesis.responses import KinesisResponse

        if not any(getattr(r, "__self__", None) is KinesisResponse for r in kinesis_urls.url_paths.values()):
            out.append("moto.kinesis.urls no longer routes requests through KinesisResponse.dispatch")
        from moto.kinesis.models import Shard

        if "def put_record" not in source_of(Shard):
            out.append("moto.kinesis.models.Shard.put_record is gone (re-check whether puts are thread-safe now)")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto.kinesis not usable: {exc!r}")
    try:
        import importlib

        from moto.core import responses as core_responses
        from moto.utilities import aws_headers

        for name in JSONPATH_PARSE_MODULES:
            if not callable(getattr(importlib.import_module(name), "parse", None)):
                out.append(f"{name} no longer has the jsonpath `parse` patch 20 keeps per text")
        if "get_random_string(length=52)" not in source_of(_original_request_id or aws_headers.gen_amzn_requestid_long):
            out.append("moto's gen_amzn_requestid_long changed (patch 21 draws its 52 characters)")
        from moto.dynamodb.parsing import ast_nodes, validators

        finder = _originals_clause_finding.get("find_clauses") or ast_nodes.Node.find_clauses
        if "type(child) in clause_types" not in source_of(finder) or any(
            "find_clauses" in source_of(getattr(c, "find_clauses")) and getattr(c, "find_clauses") is not ast_nodes.Node.find_clauses
            for c in (ast_nodes.Expression, ast_nodes.UpdateExpressionFunction)
        ):
            out.append("moto's Node.find_clauses changed or is overridden (patch 22 remembers its answers)")
        traverser = ast_nodes.DepthFirstTraverser
        update_validators_module = validators
        process_src = source_of(_originals_clause_finding.get("process") or traverser.process)
        nodes_src = source_of(_originals_clause_finding.get("nodes_to_be_processed") or traverser.nodes_to_be_processed)
        walk_src = source_of(_originals_clause_finding.get("traverse_node_recursively")
                                     or traverser.traverse_node_recursively)
        if source_digest(_originals_clause_finding.get("traverse_node_recursively")
                         or traverser.traverse_node_recursively) != TRAVERSE_SHA256 or "self.process(node)" not in walk_src:
            out.append("moto's DepthFirstTraverser.traverse_node_recursively changed (patch 22 ports it)")
        if any("def traverse_node_recursively" in source_of(getattr(update_validators_module, n))
               for n in dir(update_validators_module) if isinstance(getattr(update_validators_module, n), type)
               and issubclass(getattr(update_validators_module, n), traverser) and getattr(update_validators_module, n) is not traverser):
            out.append("a moto update validator overrides traverse_node_recursively (patch 22 would skip it)")
        if "self._processing_map().items()" not in process_src or "self._processing_map().keys()" not in nodes_src:
            out.append("moto's DepthFirstTraverser.process/nodes_to_be_processed changed (patch 22 builds the map once)")
        for name in _CLAUSE_VALIDATORS:
            check = source_of(getattr(validators, name))
            if "return node" not in check or "traverse" in check:
                out.append(f"moto's {name} changed (patch 22 assumes its check returns the node it got)")
        if "gen_amzn_requestid_long(headers)" not in source_of(core_responses.BaseResponse):
            out.append("moto.core.responses no longer calls gen_amzn_requestid_long by that name (patch 21)")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto's JSONPath parse, request ids or update validators not usable: {exc!r}")
    try:
        from moto.core.config import default_user_config
        from moto.stepfunctions import responses as sfn_responses

        if "stepfunctions" not in default_user_config or "execute_state_machine" not in default_user_config["stepfunctions"]:
            out.append('moto.core.config.default_user_config["stepfunctions"]["execute_state_machine"] is gone')
        if "execute_state_machine" not in source_of(sfn_responses.get_backend):
            out.append("moto.stepfunctions.responses.get_backend no longer reads execute_state_machine")
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends  # noqa: F401
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto Step Functions ASL engine not usable: {exc!r}")
    try:
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
            state_task_service,
            state_task_service_aws_sdk,
            state_task_service_sfn,
        )

        base = state_task_service.StateTaskService
        if "self._normalise_parameters(normalised_parameters)" not in source_of(base._eval_execution):
            out.append("StateTaskService._eval_execution no longer calls _normalise_parameters")
        if "self._normalise_response(output_value)" not in source_of(base._eval_execution):
            out.append("StateTaskService._eval_execution no longer calls _normalise_response")
        for cls in (state_task_service_aws_sdk.StateTaskServiceAwsSdk, state_task_service_sfn.StateTaskServiceSfn):
            for name in ("_get_boto_service_name", "_get_boto_service_action", "_normalise_parameters"):
                if not callable(getattr(cls, name, None)):
                    out.append(f"{cls.__name__}.{name} is gone")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto Step Functions service-task classes not usable: {exc!r}")
    try:
        from moto.dynamodb.models import DynamoDBBackend
        from moto.dynamodb.models.table import StreamShard, Table

        original = _original_transact_write_items or DynamoDBBackend.__dict__.get("transact_write_items")
        if original is None:
            out.append("moto.dynamodb.models.DynamoDBBackend.transact_write_items is gone")
        else:
            digest = source_digest(original)
            if digest != TRANSACT_WRITE_ITEMS_SHA256:
                out.append(
                    f"DynamoDBBackend.transact_write_items changed (source sha256 {digest}, the port in "
                    f"local/moto_patches.py was made from {TRANSACT_WRITE_ITEMS_SHA256}): re-port patch 6"
                )
        for name in ("get_table", "get_item", "get_keys_value", "put_item", "delete_item", "update_item"):
            if not callable(getattr(DynamoDBBackend, name, None)):
                out.append(f"DynamoDBBackend.{name} is gone (patch 6 calls it)")
        table_src = source_of(Table.put_item) + source_of(Table.delete_item)
        for needle in ("self.items[hash_value][range_value] = item", "self.items[hash_value] = item",
                       "self.stream_shard.add("):
            if needle not in table_src:
                out.append(f"moto's Table no longer stores items as patch 6 restores them ({needle!r} is gone)")
        if "self.items.append(" not in source_of(StreamShard.add):
            out.append("moto's StreamShard.add no longer appends to self.items (patch 6 truncates it on rollback)")
        query_src = source_of(_original_query or Table.query)
        for marker in _QUERY_SOURCE_MARKERS:
            if marker not in query_src:
                out.append(f"moto's Table.query no longer reads as patch 8 expects ({marker!r} is gone)")
        for marker in _QUERY_SIZE_MARKERS:
            if marker not in query_src:
                out.append(f"moto's Table.query no longer sizes items as patch 18 expects ({marker!r} is gone)")
        if _QUERY_RANGE_MARKER not in query_src:
            out.append("moto's Table.query no longer tests the sort key as patch 26 expects")
        if query_src.count("copy.deepcopy(") != 1 or _QUERY_DEEPCOPY_MARKER not in query_src:
            out.append("moto's Table.query no longer copies its answer once as patch 19 expects")
        from moto.dynamodb.models import table as table_module

        if table_module.copy is not copy and not isinstance(table_module.copy, _QueryResultCopies):
            out.append("moto.dynamodb.models.table no longer imports copy as a module (patch 19)")
        from moto.dynamodb.responses import DynamoResult

        if not callable(getattr(DynamoResult, "execute_result", None)):
            out.append("moto.dynamodb.responses.DynamoResult.execute_result is gone (patch 8 writes Query answers)")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto.dynamodb.models not usable: {exc!r}")
    try:
        from moto.core import model_instances
        from moto.core.common_models import BaseModel

        new = _original_base_model_new or BaseModel.__dict__.get("__new__")
        src = source_of(new) if new is not None else ""
        if "cls.instances_tracked.append(instance)" not in src or "super().__new__(cls)" not in src:
            out.append("moto.core.common_models.BaseModel.__new__ no longer tracks instances as patch 7 expects")
        if not callable(getattr(model_instances, "reset_model_data", None)):
            out.append("moto.core.model_instances.reset_model_data is gone")
        for dotted, cls in _untracked_classes():
            if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
                out.append(f"{dotted} is no longer a moto model (patch 7 leaves it untracked)")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto.core.common_models not usable: {exc!r}")
    try:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication

        original = _original_get_backend_for_host or DomainDispatcherApplication.__dict__.get("get_backend_for_host")
        if original is None:
            out.append("moto's DomainDispatcherApplication.get_backend_for_host is gone (patch 9)")
        else:
            digest = source_digest(original)
            if digest != GET_BACKEND_FOR_HOST_SHA256:
                out.append(
                    f"DomainDispatcherApplication.get_backend_for_host changed (source sha256 {digest}, patch 9 "
                    f"was made for {GET_BACKEND_FOR_HOST_SHA256}): check its answer still depends on the host alone"
                )
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto.moto_server.werkzeug_app not usable: {exc!r}")
    try:
        from moto.core import responses as core_responses
        from moto.core import utils as core_utils

        original = _original_method_names or core_utils.method_names_from_class
        digest = source_digest(original)
        if digest != METHOD_NAMES_SHA256:
            out.append(f"moto.core.utils.method_names_from_class changed (sha256 {digest}): re-check patch 10")
        if "method_names_from_class(self.__class__)" not in source_of(core_responses.BaseResponse.call_action):
            out.append("BaseResponse.call_action no longer calls method_names_from_class (patch 10)")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto.core.responses not usable: {exc!r}")
    try:
        from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
        from moto.stepfunctions.parser.backend import execution_worker

        original = _original_asl_parse or AmazonStateLanguageParser.__dict__["parse"].__func__
        digest = source_digest(original)
        if digest != ASL_PARSE_SHA256:
            out.append(f"AmazonStateLanguageParser.parse changed (sha256 {digest}): re-check patch 11")
        if "AmazonStateLanguageParser.parse(" not in source_of(execution_worker.ExecutionWorker._get_evaluation_entrypoint):
            out.append("ExecutionWorker._get_evaluation_entrypoint no longer parses the definition (patch 11)")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto's ASL parser not usable: {exc!r}")
    try:
        from moto.stepfunctions.parser.models import StepFunctionsParserBackend

        originals = [_originals_task_callbacks.get(n) or StepFunctionsParserBackend.__dict__[n] for n in _TASK_CALLBACKS]
        digest = source_digest(*originals, StepFunctionsParserBackend._get_executions)
        if digest != TASK_CALLBACKS_SHA256:
            out.append(f"StepFunctionsParserBackend's task callbacks changed (sha256 {digest}): re-check patch 12")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto's Step Functions task callbacks not usable: {exc!r}")
    try:
        from moto.kinesis.models import Shard

        digest = source_digest(*(_originals_kinesis_shard.get(n) or Shard.__dict__[n] for n in _KINESIS_SHARD_METHODS))
        if digest != KINESIS_SHARD_SHA256:
            out.append(f"moto's kinesis Shard changed (sha256 {digest}): re-check patch 14")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto's kinesis Shard not usable: {exc!r}")
    try:
        from moto.stepfunctions.parser import utils as sfn_utils
        from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

        digest = source_digest(_originals_retention.get("terminated") or BaseExecutionWorkerCommunication.terminated)
        if digest != EXECUTION_TERMINATED_SHA256:
            out.append(f"moto's BaseExecutionWorkerCommunication.terminated changed (sha256 {digest}): re-check patch 15")
        if not isinstance(getattr(sfn_utils, "TMP_THREADS", None), list):
            out.append("moto.stepfunctions.parser.utils.TMP_THREADS is gone (patch 15 prunes it)")
        from moto.stepfunctions.parser.models import StepFunctionsParserBackend

        if "state_machine.executions.append(execution)" not in source_of(
                _originals_retention.get("start_execution") or StepFunctionsParserBackend.start_execution):
            out.append("StepFunctionsParserBackend.start_execution no longer appends to state_machine.executions")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto's Step Functions executions not usable: {exc!r}")
    try:
        from moto.stepfunctions.parser.asl.utils import boto_client

        digest = source_digest(_original_boto_client_for or boto_client.boto_client_for)
        if digest != BOTO_CLIENT_FOR_SHA256:
            out.append(f"moto's ASL boto_client_for changed (sha256 {digest}): re-check patch 13")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto's ASL boto_client_for not usable: {exc!r}")
    try:
        from moto.cloudwatch.models import CloudWatchBackend

        original = _original_put_metric_data or CloudWatchBackend.put_metric_data
        digest = source_digest(original, CloudWatchBackend.get_all_metrics)
        if digest != CLOUDWATCH_PUT_SHA256:
            out.append(f"moto's CloudWatchBackend.put_metric_data changed (sha256 {digest}): re-check patch 16")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto's CloudWatch backend not usable: {exc!r}")
    try:
        from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict

        moto_setitem = _originals_update_size.get("setitem") or LimitedSizeDict.__setitem__  # patch 30 wraps it
        digest = source_digest(_original_item_init or Item.__init__, moto_setitem)
        if digest != ITEM_INIT_SHA256:
            out.append(f"moto's dynamo_type Item.__init__ / LimitedSizeDict changed (sha256 {digest}): re-port patch 17")
        if f"> {ITEM_SIZE_LIMIT}:" not in source_of(moto_setitem):
            out.append(f"moto's item size limit is no longer {ITEM_SIZE_LIMIT} (patch 17)")
        from moto.dynamodb.parsing.executors import UpdateExpressionExecutor

        digest = source_digest(_originals_update_size.get("execute") or UpdateExpressionExecutor.execute, moto_setitem)
        if digest != UPDATE_EXECUTE_SHA256:
            out.append(f"moto's UpdateExpressionExecutor.execute / LimitedSizeDict changed (sha256 {digest}): re-check patch 30")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto's dynamo_type.Item not usable: {exc!r}")
    try:
        from moto.dynamodb.models.dynamo_type import DynamoType

        digest = source_digest(_original_dynamo_type or DynamoType)
        if digest != DYNAMO_TYPE_SHA256:
            out.append(f"moto's DynamoType changed (sha256 {digest}): re-check patch 27's slots")
        digest = hashlib.sha256(repr(value_assignments()).encode()).hexdigest()[:16]
        if digest != SHARED_LEAF_SOURCES:
            out.append(f"moto's DynamoDB code sets .type/.value in new places (sha256 {digest}): "
                       "re-check that a scalar DynamoType never changes (patches 17, 27 and 29)")
        # patch 29: one key object serves several partitions and tables: moto must find them by value
        key, twin = DynamoType({"S": "tenant#CONTACT#1"}), DynamoType({"S": "".join(["tenant#CONTACT#", "1"])})
        if not (key == twin and hash(key) == hash(twin) and {key: 1}.get(twin) == 1):
            out.append("moto's DynamoType no longer compares and hashes by value (patch 29 shares key objects)")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto's DynamoType not usable: {exc!r}")
    try:
        from moto.dynamodb import responses as ddb_responses
        from moto.dynamodb.models import utilities as ddb_utilities
        from moto.dynamodb.models.dynamo_type import DynamoType

        digest = source_digest(_originals_dynamo_walks.get("size") or DynamoType.size, DynamoType.__init__)
        if digest != DYNAMO_SIZE_SHA256:
            out.append(f"moto's DynamoType.size/__init__ changed (sha256 {digest}): re-port patch 23")
        digest = source_digest(ddb_utilities.dynamo_to_dict)
        if digest != DYNAMO_TO_DICT_SHA256:
            out.append(f"moto's dynamo_to_dict changed (sha256 {digest}): re-port patch 23")
        if "dynamo_to_dict(result)" not in source_of(ddb_responses.DynamoResult):
            out.append("moto's DynamoResult no longer calls dynamo_to_dict by that name (patch 23)")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto's DynamoType walks not usable: {exc!r}")
    try:
        from moto.dynamodb.parsing import ast_nodes, expressions
        from moto.dynamodb.parsing import validators as update_validators

        make = _originals_update_parse.get("make") or expressions.UpdateExpressionParser.make
        digest = source_digest(make, ast_nodes.Node.__init__, update_validators.Validator.__init__)
        if digest != UPDATE_PARSE_SHA256:
            out.append(f"moto's update expression parse/copy changed (sha256 {digest}): re-check patch 24")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto's update expression parser not usable: {exc!r}")
    try:
        from moto.cognitoidp import models as cognito_models

        # patch 31: the pool imports its key through the module's `jwk`, and nothing else of moto's uses that name
        uses = [line.strip() for line in source_of(cognito_models).splitlines() if "jwk." in line]
        if uses != ["self.json_web_key = jwk.RSAKey.import_key(jwks_file)"]:
            out.append(f"moto.cognitoidp.models uses jwk differently now ({uses}): re-check patch 31")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto.cognitoidp.models not usable: {exc!r}")
    try:
        from moto.server import ThreadedMotoServer

        for name in ("start", "stop", "get_host_and_port"):
            if not callable(getattr(ThreadedMotoServer, name, None)):
                out.append(f"moto.server.ThreadedMotoServer.{name} is gone")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto.server.ThreadedMotoServer not importable: {exc!r}")
    try:
        from moto.core.base_backend import BackendDict

        if not callable(getattr(BackendDict, "reset", None)):
            out.append("moto.core.base_backend.BackendDict.reset is gone (used to reset state between runtimes)")
    except Exception as exc:  # noqa: BLE001
        out.append(f"moto.core.base_backend not importable: {exc!r}")
    return out


def apply() -> None:
    """Idempotent. Raises RuntimeError listing what moved if a patch target is not as expected."""
    global _applied, _original_invoke, _original_ddb_call_action, _original_kinesis_call_action
    with _apply_lock:
        if _applied:
            enable_step_functions_execution()
            return
        found = problems(include_version=False)
        if found:
            raise RuntimeError("moto internals the local runtime patches have moved:\n- " + "\n- ".join(found))

        from moto.awslambda.models import LambdaFunction
        from moto.dynamodb.responses import DynamoHandler

        from local.lambda_runtime import REGISTRY, invoke_in_process

        _original_invoke = LambdaFunction._invoke_lambda

        @functools.wraps(_original_invoke)
        def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
            spec = REGISTRY.get(self.function_name)
            if spec is None:
                return _original_invoke(self, event)
            return invoke_in_process(self, spec, event)

        LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]
        original_function_invoke = LambdaFunction.invoke

        @functools.wraps(original_function_invoke)
        def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> Any:
            try:
                return original_function_invoke(self, body, request_headers, response_headers)
            except ValueError as exc:  # moto's json.loads of the event (a handler's errors are payloads already)
                if REGISTRY.get(self.function_name) is None:
                    raise
                # the Lambda Python runtime's answer to an event it cannot decode
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps({"errorMessage": f"Unable to unmarshal input: {exc}",
                                   "errorType": "Runtime.UnmarshalError", "stackTrace": []}).encode()

        LambdaFunction.invoke = invoke  # type: ignore[method-assign]

        _original_ddb_call_action = DynamoHandler.call_action

        @functools.wraps(_original_ddb_call_action)
        def call_action(self: Any) -> Any:
            with DYNAMODB_LOCK:
                try:
                    return _original_ddb_call_action(self)
                finally:
                    if _index_maps:
                        index_maps_after(self)  # patch 25

        DynamoHandler.call_action = call_action  # type: ignore[method-assign]

        from moto.kinesis.responses import KinesisResponse

        _original_kinesis_call_action = KinesisResponse.call_action  # BaseResponse's, inherited

        @functools.wraps(_original_kinesis_call_action)
        def kinesis_call_action(self: Any) -> Any:
            with KINESIS_LOCK:
                return _original_kinesis_call_action(self)

        KinesisResponse.call_action = kinesis_call_action  # type: ignore[method-assign]
        _patch_dynamo_type_slots()  # first: the patches below capture the class
        _patch_transact_write_items()
        _patch_instance_tracking()
        _patch_service_task_parameters()
        _patch_queries()
        _patch_backend_for_host()
        _patch_method_names()
        _patch_asl_parse()
        _patch_task_callbacks()
        _patch_asl_clients()
        _patch_kinesis_shards()
        _patch_execution_retention()
        _patch_metric_retention()
        _patch_item_init()
        _patch_update_sharing()  # patch 17's sharing, after updates
        _patch_update_size_check()
        _patch_jsonpath_parse()
        _patch_request_ids()
        _patch_clause_finding()
        _patch_dynamo_walks()
        _patch_update_parse()
        _patch_cognito_key()
        enable_step_functions_execution()
        _applied = True


# -- patch 20: a JSONPath text parsed once -----------------------------------------------------------

# The moto modules whose `parse` (jsonpath_ng's or its extension's) the ASL engine calls per evaluation.
JSONPATH_PARSE_MODULES = (
    "moto.stepfunctions.parser.asl.utils.json_path",
    "moto.stepfunctions.parser.asl.component.common.path.result_path",
)
_originals_jsonpath_parse: dict[str, Any] = {}


def _patch_jsonpath_parse() -> None:
    import importlib

    for name in JSONPATH_PARSE_MODULES:
        module = importlib.import_module(name)
        original = module.parse
        if name in _originals_jsonpath_parse or getattr(original, "__wrapped__", None) is not None:
            continue
        _originals_jsonpath_parse[name] = original
        module.parse = functools.lru_cache(maxsize=1024)(original)


# -- patch 22: an update expression's clauses found once per node -----------------------------------

_clause_memo = threading.local()
_originals_clause_finding: dict[str, Any] = {}
_CLAUSE_VALIDATORS = ("ActionCountValidator", "OverlappingPathsValidator")
# sha256 of moto 5.2.5's DepthFirstTraverser.traverse_node_recursively (patch 22 ports it).
TRAVERSE_SHA256 = "d7f01d9b45cf9f64"


def _patch_clause_finding() -> None:
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import Expression, Node, UpdateExpressionFunction

    if _originals_clause_finding:
        return
    original_find = _originals_clause_finding["find_clauses"] = Node.find_clauses

    def find_clauses(self: Any, clause_types: Any) -> list[Any]:
        memo = getattr(_clause_memo, "memo", None)
        if memo is None:
            return original_find(self, clause_types)
        key = (id(self), tuple(clause_types))
        found = memo.get(key)
        if found is None:
            found = []  # moto's Node.find_clauses, its children's answers remembered
            for child in self.children or []:
                if type(child) in clause_types:
                    found.append(child)
                elif isinstance(child, (Expression, UpdateExpressionFunction)):
                    found.extend(child.find_clauses(clause_types))
            memo[key] = found
        return list(found)

    find_clauses.__wrapped__ = original_find  # type: ignore[attr-defined]
    Node.find_clauses = find_clauses  # type: ignore[method-assign]

    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser

    _originals_clause_finding["nodes_to_be_processed"] = DepthFirstTraverser.nodes_to_be_processed
    _originals_clause_finding["process"] = DepthFirstTraverser.process

    def processing_items(self: Any) -> tuple[tuple[Any, Any], ...]:
        items = self.__dict__.get("_local_processing_items")
        if items is None:
            items = self.__dict__["_local_processing_items"] = tuple(self._processing_map().items())
        return items

    def nodes_to_be_processed(self: Any) -> tuple[Any, ...]:
        return tuple(k for k, _ in processing_items(self))

    def process(self: Any, node: Any) -> Any:
        for class_key, processor in processing_items(self):  # moto's `process`, the map built once
            if isinstance(node, class_key):
                return processor(node)
        return None

    DepthFirstTraverser.nodes_to_be_processed = nodes_to_be_processed  # type: ignore[method-assign]
    DepthFirstTraverser.process = process  # type: ignore[method-assign]
    _originals_clause_finding["traverse_node_recursively"] = DepthFirstTraverser.traverse_node_recursively
    base_pre_processing = DepthFirstTraverser.pre_processing_of_child

    def traverse_node_recursively(self: Any, node: Any, child_id: int = -1) -> Any:
        types = tuple(k for k, _ in processing_items(self))
        pre = None if type(self).pre_processing_of_child is base_pre_processing else self.pre_processing_of_child

        def walk(node: Any, child_id: int) -> Any:  # moto's traverse_node_recursively, line for line
            if isinstance(node, Node):
                parent_node = node.parent
                if node.children is not None:
                    for i, child_node in enumerate(node.children):
                        if pre is not None:
                            pre(node, i)
                        walk(child_node, i)
                if isinstance(node, types):
                    node = self.process(node)
                    node.parent = parent_node
                    if parent_node:
                        parent_node.children[child_id] = node
            return node

        return walk(node, child_id)

    DepthFirstTraverser.traverse_node_recursively = traverse_node_recursively  # type: ignore[method-assign]

    for name in _CLAUSE_VALIDATORS:
        cls = getattr(validators, name)
        original_traverse = _originals_clause_finding[name] = cls.traverse

        def traverse(self: Any, node: Any, _original: Any = original_traverse) -> Any:
            # the tree does not change during these two traversals (their checks return the node they got)
            _clause_memo.memo = {}
            try:
                return _original(self, node)
            finally:
                _clause_memo.memo = None

        cls.traverse = traverse


# -- patch 23: DynamoDB sizes and answers without copies ----------------------------------------------

_SETS = ("SS", "NS", "BS")


def dynamo_size(value: Any) -> int:
    """moto's DynamoType.size, without the copies it makes of each map value to ask it."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    kind, inner = value.type, value.value
    if kind == "N":
        return len(str(inner))
    if kind in _SETS:
        sub = kind[0]
        return sum(len(str(v)) if sub == "N" else (1 if isinstance(v, bool) else _bytesize(v)) for v in inner)
    if kind == "L":
        return sum(dynamo_size(v) for v in inner)
    if kind == "M":
        # moto: bytesize(k) + DynamoType(v).size(); DynamoType(v) of a DynamoType is a copy of the same value
        return sum(_bytesize(k) + dynamo_size(v if type(v) is DynamoType else DynamoType(v)) for k, v in inner.items())
    if isinstance(inner, bool):
        return 1
    return _bytesize(inner)


def _bytesize(val: Any) -> int:
    return len(val if isinstance(val, bytes) else val.encode("utf-8"))


_PLAIN_TYPES = frozenset({str, int, float, bool, type(None), bytes})


def fast_dynamo_to_dict(obj: Any) -> Any:
    """moto's dynamo_to_dict: the same branches in the same order, the common exact types first."""
    from datetime import datetime

    from moto.dynamodb.models.dynamo_type import DynamoType

    kind = type(obj)
    if kind is dict:
        return {k: fast_dynamo_to_dict(v) for k, v in obj.items()}
    if kind is list:
        return [fast_dynamo_to_dict(v) for v in obj]
    if kind in _PLAIN_TYPES:
        return obj  # none of them is a datetime, a DynamoType or has to_json
    if kind is DynamoType and obj.type != "B" and obj.type != "BS":
        return {obj.type: fast_dynamo_to_dict(obj.value)}
    if isinstance(obj, datetime) or isinstance(obj, DynamoType):
        return _originals_dynamo_walks["dynamo_to_dict"](obj)  # binary values and subclasses: moto's own
    if hasattr(obj, "to_json"):
        return fast_dynamo_to_dict(obj.to_json())
    if isinstance(obj, dict):
        return {k: fast_dynamo_to_dict(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [fast_dynamo_to_dict(item) for item in obj]
    return obj


def dynamo_json_default(value: Any) -> Any:
    """json.dumps' `default` for a DynamoResult's raw result: what fast_dynamo_to_dict makes of `value` (a
    DynamoType, an object with to_json), blobs in base64 as moto's serializer writes them."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    if type(value) is DynamoType and value.type != "B" and value.type != "BS":
        return {value.type: value.value}
    if isinstance(value, (bytes, bytearray)):
        return _blob_as_base64(value)
    converted = fast_dynamo_to_dict(value)
    if converted is value:  # nothing the conversion changes (a datetime, an unknown object): not JSON
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
    return converted


def _patch_dynamo_walks() -> None:
    from moto.dynamodb import responses as ddb_responses
    from moto.dynamodb.models import utilities as ddb_utilities
    from moto.dynamodb.models.dynamo_type import DynamoType

    if _originals_dynamo_walks:
        return
    _originals_dynamo_walks["size"] = DynamoType.size
    _originals_dynamo_walks["dynamo_to_dict"] = ddb_utilities.dynamo_to_dict
    _originals_dynamo_walks["result_init"] = ddb_responses.DynamoResult.__init__
    DynamoType.size = dynamo_size  # type: ignore[method-assign]
    ddb_responses.dynamo_to_dict = fast_dynamo_to_dict

    def __init__(self: Any, result: object) -> None:
        # Kept as it came: patch 8 writes it as is; moto's serializer gets it converted (execute_result);
        # moto's capacity wrapper adds plain members to it, which the conversion leaves as they are.
        self._result = result
        self._local_unconverted = True

    ddb_responses.DynamoResult.__init__ = __init__  # type: ignore[method-assign]


def converted_result(result: Any) -> None:
    """Before moto's own serializer writes a DynamoResult: its result in plain types (patch 23)."""
    if result.__dict__.pop("_local_unconverted", False):
        result._result = fast_dynamo_to_dict(result._result)


# -- patch 24: update expressions parsed once per text, copied plainly ---------------------------------

class _NotPlainTree(Exception):
    """A tree whose parent links are not its own structure: deep-copied as moto does."""


def copy_update_tree(value: Any) -> Any:
    """copy.deepcopy of a parsed update expression, node by node; anything else: copy.deepcopy."""
    from moto.dynamodb.parsing.ast_nodes import Node

    if not isinstance(value, Node) or value.parent is not None:
        return copy.deepcopy(value)
    memo: dict[int, Any] = {}

    def copy_node(node: Any, parent: Any, parent_copy: Any) -> Any:
        known = memo.get(id(node))
        if known is not None:
            return known
        new = object.__new__(type(node))
        memo[id(node)] = new
        for name, attribute in node.__dict__.items():
            if name == "parent":
                if attribute is not parent:
                    raise _NotPlainTree
                new.__dict__[name] = parent_copy
            elif name == "children" and type(attribute) is list:
                new.__dict__[name] = [copy_node(child, node, new) if isinstance(child, Node)
                                      else copy.deepcopy(child, memo) for child in attribute]
            else:
                new.__dict__[name] = copy.deepcopy(attribute, memo)
        return new

    try:
        return copy_node(value, None, None)
    except _NotPlainTree:
        return copy.deepcopy(value)


def _patch_update_parse() -> None:
    from moto.dynamodb.parsing import expressions
    from moto.dynamodb.parsing import validators as update_validators

    if _originals_update_parse:
        return
    parser = expressions.UpdateExpressionParser
    original_make = _originals_update_parse["make"] = parser.make
    parser.make = classmethod(functools.lru_cache(maxsize=256)(original_make.__func__))  # type: ignore[method-assign]
    _originals_update_parse["deepcopy"] = update_validators.deepcopy
    update_validators.deepcopy = copy_update_tree


# -- patch 25: index queries read an index kept up to date -------------------------------------------

# id(table) -> (a weak reference to it, {attribute -> (value -> {storage key -> Item}, storage key -> value)})
_index_maps: dict[int, tuple[Any, dict[str, tuple[dict[str, dict[Any, Any]], dict[Any, str]]]]] = {}
_READ_ONLY_DYNAMODB = frozenset({
    "GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems", "DescribeTable", "ListTables",
    "DescribeTimeToLive", "DescribeContinuousBackups", "ListTagsOfResource", "DescribeEndpoints",
    "DescribeLimits", "DescribeKinesisStreamingDestination", "ListBackups", "ListExports", "ListImports",
    "DescribeGlobalTable", "DescribeTableReplicaAutoScaling", "GetResourcePolicy", "DescribeContributorInsights",
})


def _item_value(item: Any, attribute: str) -> str | None:
    held = item.attrs.get(attribute) if item is not None else None
    return held.value if held is not None and held.type == "S" else None


def _storage_items(table: Any) -> Any:
    """(storage key, Item) of every item of the table: (hash, range) or (hash, None)."""
    if table.range_key_attr:
        for hash_key, partition in table.items.items():
            for range_key, item in partition.items():
                yield (hash_key, range_key), item
    else:
        for hash_key, item in table.items.items():
            yield (hash_key, None), item


def index_map_items(table: Any, attribute: str, value: str) -> list[Any]:
    """The table's items whose `attribute` is the string `value` (patch 25's map, built on first use)."""
    entry = _index_maps.get(id(table))
    if entry is None or entry[0]() is not table:
        for gone in [k for k, (ref, _) in _index_maps.items() if ref() is None]:
            del _index_maps[gone]  # tables deleted (or reset) since: their maps hold items
        entry = _index_maps[id(table)] = (weakref.ref(table), {})
    maps = entry[1]
    if attribute not in maps:
        by_value: dict[str, dict[Any, Any]] = {}
        value_of: dict[Any, str] = {}
        for key, item in _storage_items(table):
            held = _item_value(item, attribute)
            if held is not None:
                by_value.setdefault(held, {})[key] = item
                value_of[key] = held
        maps[attribute] = (by_value, value_of)
    return list(maps[attribute][0].get(value, {}).values())


def forget_index_maps(table: Any) -> None:
    """A table written outside a request (a bulk load straight into moto's items): its maps are built again
    at the next index Query. Call it under DYNAMODB_LOCK, with the writes."""
    _index_maps.pop(id(table), None)


def reindex_item(table: Any, hash_key: Any, range_key: Any) -> None:
    """One item written (or deleted) brought up to date in the table's maps: after a request's write
    (index_maps_after), or outside a request (local.ttl). Call it under DYNAMODB_LOCK, with the write."""
    entry = _index_maps.get(id(table))
    if entry is None or entry[0]() is not table:
        return
    if table.range_key_attr:
        item = table.items.get(hash_key, {}).get(range_key)
    else:
        item = table.items.get(hash_key)
    key = (hash_key, range_key if table.range_key_attr else None)
    for attribute, (by_value, value_of) in entry[1].items():
        before = value_of.pop(key, None)
        if before is not None:
            bucket = by_value.get(before)
            if bucket is not None:
                bucket.pop(key, None)
                if not bucket:
                    del by_value[before]
        now = _item_value(item, attribute)
        if now is not None:
            by_value.setdefault(now, {})[key] = item
            value_of[key] = now


def _written_keys(action: str, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]] | None:
    """(table name, key or whole item) of each item a write request names; None: not an item write."""
    if action == "PutItem":
        return [(body.get("TableName", ""), body.get("Item") or {})]
    if action in ("UpdateItem", "DeleteItem"):
        return [(body.get("TableName", ""), body.get("Key") or {})]
    if action == "BatchWriteItem":
        return [(table, (r.get("PutRequest") or {}).get("Item") or (r.get("DeleteRequest") or {}).get("Key") or {})
                for table, requests in (body.get("RequestItems") or {}).items() for r in requests]
    if action == "TransactWriteItems":
        out = []
        for element in body.get("TransactItems") or []:
            for kind, request in element.items():
                if kind in ("Put", "Update", "Delete"):
                    out.append((request.get("TableName", ""), request.get("Item") or request.get("Key") or {}))
        return out
    return None


def index_maps_after(handler: Any) -> None:
    """After a DynamoDB request (under patch 2's lock): the items it named, brought up to date in the maps."""
    try:
        action = handler._get_action()
    except Exception:  # noqa: BLE001 - an unparseable request wrote nothing
        return
    if action in _READ_ONLY_DYNAMODB:
        return
    body = getattr(handler, "body", None)
    written = _written_keys(action, body) if isinstance(body, dict) else None
    if written is None:
        _index_maps.clear()  # PartiQL, table and backup operations: build the maps again
        return
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        backend = handler.dynamodb_backend
        for table_name, attributes in written:
            try:
                table = backend.get_table(table_name)
            except Exception:  # noqa: BLE001 - no such table: nothing was written there
                continue
            if id(table) not in _index_maps:
                continue
            hash_raw = attributes.get(table.hash_key_attr)
            range_raw = attributes.get(table.range_key_attr) if table.range_key_attr else None
            if hash_raw is None or (table.range_key_attr and range_raw is None):
                _index_maps.pop(id(table), None)  # a key we cannot read: build this table's maps again
                continue
            reindex_item(table, DynamoType(hash_raw), DynamoType(range_raw) if range_raw is not None else None)
    except Exception:  # noqa: BLE001 - never serve a stale map: build them all again
        _index_maps.clear()


# -- patch 21: request ids drawn in one call ---------------------------------------------------------

_original_request_id: Any = None
_REQUEST_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"  # get_random_string's


def fast_request_id(headerdict: dict[str, Any] | None = None) -> str:
    """moto's gen_amzn_requestid_long: 52 characters of its alphabet from its seedable random, in one draw."""
    from moto.moto_api._internal import mock_random

    req_id = "".join(mock_random.choices(_REQUEST_ID_ALPHABET, k=52))
    if headerdict is not None and isinstance(headerdict, dict):
        headerdict.update({"x-amzn-requestid": req_id})
    return req_id


def _patch_request_ids() -> None:
    global _original_request_id
    from moto.core import responses
    from moto.utilities import aws_headers

    if _original_request_id is not None:
        return
    _original_request_id = aws_headers.gen_amzn_requestid_long
    aws_headers.gen_amzn_requestid_long = fast_request_id
    responses.gen_amzn_requestid_long = fast_request_id


# -- patch 10: a response class's method names, listed once -------------------------------------------

def _patch_method_names() -> None:
    global _original_method_names
    from moto.core import responses as core_responses
    from moto.core import utils as core_utils

    original = core_utils.method_names_from_class
    _original_method_names = original
    known: dict[Any, list[str]] = {}

    @functools.wraps(original)
    def method_names_from_class(clazz: Any) -> list[str]:
        names = known.get(clazz)
        if names is None:
            names = known[clazz] = original(clazz)
        return names

    method_names_from_class.cache = known  # type: ignore[attr-defined]
    core_responses.method_names_from_class = method_names_from_class  # the name call_action uses


# -- patch 11: an ASL definition parsed once ----------------------------------------------------------

def _patch_asl_parse() -> None:
    global _original_asl_parse
    from moto.stepfunctions.parser.asl.parse import asl_parser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    original = asl_parser.AmazonStateLanguageParser.__dict__["parse"].__func__
    _original_asl_parse = original
    trees: collections.OrderedDict[str, Any] = collections.OrderedDict()
    lock = threading.Lock()

    def parse(definition: str) -> tuple[Any, Any]:
        with lock:
            tree = trees.get(definition)
            if tree is not None:
                trees.move_to_end(definition)
        if tree is None:
            program, tree = original(definition)  # raises on a syntax error: nothing kept
            with lock:
                trees[definition] = tree
                while len(trees) > 64:
                    trees.popitem(last=False)
            return program, tree
        return Preprocessor().visit(tree), tree  # fresh components for this execution

    parse.trees = trees  # type: ignore[attr-defined]
    asl_parser.AmazonStateLanguageParser.parse = staticmethod(parse)  # type: ignore[method-assign,assignment]


# -- patch 12: task tokens answered while an execution starts or ends ---------------------------------
# moto's SendTaskSuccess/Failure/Heartbeat walk the RUNNING executions and read each one's worker, which is
# None for an instant while an execution starts or finishes: the call then fails with an AttributeError
# (a 500) instead of finding the token's execution or answering InvalidToken. Seen when an agent accepts
# as the customer's execution ends. The port skips executions without a worker; otherwise it is moto's.
# The same instant at the start: moto appends a new execution to its state machine's list before it sets
# the execution's status, and `_get_executions(RUNNING)` read that None status (`exec_status.value`): an
# AttributeError twice in a 10-minute busy day. The running executions are listed by a port of it that
# takes an execution without a status yet for what it is, not yet running.


def running_executions(backend: Any) -> list[Any]:
    """moto's `_get_executions(ExecutionStatus.RUNNING)`, for an execution that has no status yet too."""
    from moto.stepfunctions.parser.api import ExecutionStatus

    return [execution for machine in backend.state_machines for execution in machine.executions
            if execution.exec_status == ExecutionStatus.RUNNING]


def _patch_task_callbacks() -> None:
    from moto.stepfunctions.parser.api import InvalidToken, TaskDoesNotExist, TaskTimedOut
    from moto.stepfunctions.parser.asl.eval.callback.callback import (
        CallbackConsumerTimeout,
        CallbackNotifyConsumerError,
        CallbackOutcomeFailure,
        CallbackOutcomeSuccess,
    )
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    def answer(executions: Any, notify: Callable[[Any], bool]) -> bool:
        for execution in executions:
            worker = execution.exec_worker
            env = worker.env if worker is not None else None
            if env is None:  # starting (no worker, or no environment yet) or finished: holds no callback
                continue
            try:
                if notify(env.callback_pool_manager):
                    return True
            except CallbackNotifyConsumerError as consumer_error:
                if isinstance(consumer_error, CallbackConsumerTimeout):
                    raise TaskTimedOut() from None
                raise TaskDoesNotExist() from None
        raise InvalidToken()

    def send_task_heartbeat(self: Any, task_token: Any) -> None:
        answer(running_executions(self), lambda pool: pool.heartbeat(callback_id=task_token))

    def send_task_success(self: Any, task_token: Any, outcome: str) -> None:
        result = CallbackOutcomeSuccess(callback_id=task_token, output=outcome)
        answer(running_executions(self), lambda pool: pool.notify(callback_id=task_token, outcome=result))

    def send_task_failure(self: Any, task_token: Any, error: Any = None, cause: Any = None) -> Any:
        from moto.stepfunctions.parser.api import SendTaskFailureOutput

        result = CallbackOutcomeFailure(callback_id=task_token, error=error, cause=cause)
        answer(self._get_executions(), lambda pool: pool.notify(callback_id=task_token, outcome=result))
        return SendTaskFailureOutput()

    for name, port in zip(_TASK_CALLBACKS, (send_task_heartbeat, send_task_success, send_task_failure), strict=True):
        _originals_task_callbacks.setdefault(name, StepFunctionsParserBackend.__dict__[name])
        setattr(StepFunctionsParserBackend, name, port)


# -- patch 13: one boto3 client per service for the ASL engine --------------------------------------

def _patch_asl_clients() -> None:
    global _original_boto_client_for
    import importlib
    import sys

    from moto.stepfunctions.parser.asl.utils import boto_client

    original = boto_client.boto_client_for
    _original_boto_client_for = original
    clients: dict[tuple[Any, ...], Any] = {}
    lock = threading.Lock()

    @functools.wraps(original)
    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        from moto.core.models import botocore_stubber
        from moto.settings import moto_server_port

        key = (region, service, moto_server_port(), botocore_stubber.enabled)
        client = clients.get(key)
        if client is None:
            with lock:
                client = clients.get(key)
                if client is None:
                    client = clients[key] = original(region, service, state_credentials)
        return client

    boto_client_for.clients = clients  # type: ignore[attr-defined]
    boto_client.boto_client_for = boto_client_for
    # The modules that did `from ...boto_client import boto_client_for` hold the original: found by their
    # source (imported now if the engine has not yet), so one moto adds is covered too.
    package = Path(boto_client.__file__).resolve().parents[1]  # moto/stepfunctions/parser/asl
    for path in package.rglob("*.py"):
        if "import boto_client_for" not in path.read_text(errors="replace"):
            continue
        name = "moto.stepfunctions.parser.asl." + ".".join(path.relative_to(package).with_suffix("").parts)
        module = sys.modules.get(name) or importlib.import_module(name)
        if getattr(module, "boto_client_for", None) is original:
            module.boto_client_for = boto_client_for


# -- patch 14: Kinesis shards read from their ends ---------------------------------------------------

def _patch_kinesis_shards() -> None:
    from moto.kinesis.models import Shard

    for name in _KINESIS_SHARD_METHODS:
        _originals_kinesis_shard.setdefault(name, Shard.__dict__[name])
    walk = _originals_kinesis_shard["get_records"]

    def get_min_sequence_number(self: Any) -> int:
        return next(iter(self.records)) if self.records else 0

    def get_max_sequence_number(self: Any) -> int:
        return next(reversed(self.records)) if self.records else 0

    def get_records(self: Any, last_sequence_id: str, limit: int | None) -> tuple[list[Any], int, int]:
        records = self.records
        if not records:
            return [], int(last_sequence_id), 0
        first, last = next(iter(records)), next(reversed(records))
        if not (isinstance(first, int) and isinstance(last, int) and last - first + 1 == len(records)):
            return walk(self, last_sequence_id, limit)  # not consecutive: moto's walk
        after = int(last_sequence_id)
        start = max(after + 1, first)
        stop = last if not limit else min(last, start + limit - 1)
        if start > stop:
            return [], after, 0
        results = [records[n] for n in range(start, stop + 1)]
        behind_s = records[last].created_at - results[-1].created_at
        return results, results[-1].sequence_number, int(behind_s * 1000)

    Shard.get_min_sequence_number = get_min_sequence_number  # type: ignore[method-assign]
    Shard.get_max_sequence_number = get_max_sequence_number  # type: ignore[method-assign]
    Shard.get_records = get_records  # type: ignore[method-assign]
    # put_record finds the last key through get_max_sequence_number: O(1) now, its own code unchanged.


def trim_kinesis_shard(stream_name: str, shard_id: str, delivered_up_to: int, keep: int = KINESIS_KEEP_READ) -> int:
    """Drops a shard's records up to `delivered_up_to` (what every consumer of the stream has delivered),
    but the newest `keep` of those. A deviation from AWS, which keeps records 24 h whoever has read them:
    a reader from outside the process (the AWS CLI with TRIM_HORIZON) sees the last `keep` delivered
    records and everything after. Returns how many records were dropped."""
    from moto.kinesis.models import kinesis_backends

    dropped = 0
    with KINESIS_LOCK:
        for regions in list(kinesis_backends.values()):
            for backend in list(regions.values()):
                stream = backend.streams.get(stream_name)
                shard = stream.shards.get(shard_id) if stream is not None else None
                if shard is None:
                    continue
                records = shard.records
                below = min(delivered_up_to, next(reversed(records)) if records else 0) - keep
                while records:
                    first = next(iter(records))
                    if not isinstance(first, int) or first > below:
                        break
                    del records[first]
                    dropped += 1
    return dropped


# -- patch 15: finished executions forgotten past a bound (when asked) -------------------------------

def _patch_execution_retention() -> None:
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    terminated = _originals_retention.setdefault("terminated", BaseExecutionWorkerCommunication.terminated)
    start_execution = _originals_retention.setdefault("start_execution", StepFunctionsParserBackend.start_execution)

    @functools.wraps(start_execution)
    def start_execution_locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _SFN_EXECUTIONS_LOCK:  # its append and patch 15's replacement of the list never interleave
            return start_execution(self, *args, **kwargs)

    @functools.wraps(terminated)
    def terminated_then_retention(self: Any) -> None:
        terminated(self)
        if FINISHED_EXECUTIONS_KEPT is not None:
            forget_finished_executions(self.execution, FINISHED_EXECUTIONS_KEPT)

    StepFunctionsParserBackend.start_execution = start_execution_locked  # type: ignore[method-assign]
    BaseExecutionWorkerCommunication.terminated = terminated_then_retention  # type: ignore[method-assign]


def forget_finished_executions(execution: Any, keep: int) -> int:
    """Counts `execution` (just finished) among its state machine's finished ones; forgets the oldest
    beyond `keep` and prunes moto's list of finished threads. Returns how many executions were forgotten."""
    from moto.stepfunctions.parser import utils as sfn_utils
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    backend = stepfunctions_parser_backends[execution.account_id][execution.region_name]
    with _SFN_EXECUTIONS_LOCK:
        owner = next((sm for sm in backend.state_machines if any(e is execution for e in reversed(sm.executions))), None)
        if owner is None:
            return 0
        # Not an attribute of the state machine: moto deep-copies it for each execution.
        held = _finished.get(id(owner))
        if held is None or held[0]() is not owner:
            held = _finished[id(owner)] = (weakref.ref(owner, lambda _, key=id(owner): _finished.pop(key, None)),
                                           collections.deque())
        finished = held[1]
        finished.append(execution)
        if len(finished) <= keep:
            return 0
        drop = set()
        while len(finished) > keep:
            drop.add(id(finished.popleft()))
        owner.executions = [e for e in owner.executions if id(e) not in drop]
        threads = sfn_utils.TMP_THREADS
        if len(threads) > 256:
            threads[:] = [t for t in threads if t.is_alive()]
        return len(drop)


# -- patch 16: the newest datapoints of each CloudWatch metric ------------------------------------------

def _patch_metric_retention() -> None:
    global _original_put_metric_data
    from moto.cloudwatch.models import CloudWatchBackend

    if _original_put_metric_data is None:
        _original_put_metric_data = CloudWatchBackend.put_metric_data
    put = _original_put_metric_data

    @functools.wraps(put)
    def put_metric_data(self: Any, namespace: str, metric_data: list[dict[str, Any]]) -> None:
        with CLOUDWATCH_LOCK:
            put(self, namespace, metric_data)
            data = self.metric_data
            # Trim when the list doubled since the last trim (amortised; never below one metric's worth).
            if len(data) > max(getattr(self, "_local_trim_at", 0), 2 * CLOUDWATCH_KEEP_PER_METRIC):
                trim_metric_data(data, CLOUDWATCH_KEEP_PER_METRIC)
                self._local_trim_at = 2 * len(data)

    CloudWatchBackend.put_metric_data = put_metric_data  # type: ignore[method-assign]


def _metric_key(datum: Any) -> tuple[Any, ...]:
    return datum.namespace, datum.name, tuple((d.name, d.value) for d in datum.dimensions)


def trim_metric_data(data: list[Any], keep: int) -> int:
    """Keeps the newest `keep` datapoints of each metric in moto's list (in place, order kept).
    Returns how many were dropped."""
    seen: collections.Counter = collections.Counter()
    kept_reversed = []
    for datum in reversed(data):
        key = _metric_key(datum)
        if seen[key] < keep:
            seen[key] += 1
            kept_reversed.append(datum)
    dropped = len(data) - len(kept_reversed)
    if dropped:
        data[:] = kept_reversed[::-1]
    return dropped


# -- patch 17: an item's attributes set in one pass, its size checked once ----------------------------
# Its names, and its short string values, are shared with every other stored item's (names by `sys.intern`): each
# request's JSON decodes new copies of them, and a stored contact item held 27 attribute names and a dozen
# enum-like values (tenant, state, channel, queue) of its own, ~2 KB of its ~6.8 KB in moto.
# Patch 27 goes one step further: a short scalar value (S or N of at most SHARED_TEXT_MAX characters, BOOL,
# NULL) is one `DynamoType` object for every item that holds it. moto never changes a scalar `DynamoType`
# after building it (its value is set in `__init__` and `__deepcopy__` only; updates, ADD included, put new
# objects in; sets, lists and maps, which updates change in place, stay each item's own): `SHARED_LEAF_SOURCES`
# pins that. A busy day's items hold ~60 % of their scalar values in common ('COMPLETED', '0', tenant ids,
# queue names, today's activity partition).

# Names and scalar values up to this long are shared: keys and ids too since patch 29 (32 before;
# `<tenant>#CONTACT#<uuid>` is 49). Longer values are JSON documents (decisions, history records), rarely repeated.
SHARED_TEXT_MAX = 64
# Shared scalar values known at most (then forgotten all at once: the items keep theirs; the next ones start
# sharing again). A busy 90 s held ~5,600 distinct short values; each entry costs ~100 B.
SHARED_LEAVES_MAX = 16_384
_shared_leaves: dict[str, dict[Any, Any]] = {"S": {}, "N": {}, "BOOL": {}, "NULL": {}}


def _shared_text(text: Any) -> Any:
    return sys.intern(text) if type(text) is str and len(text) <= SHARED_TEXT_MAX else text


def _shared_leaf(typed: Any) -> Any:
    """The one `DynamoType` of a short scalar value (`typed` itself the first time); `typed` for any other."""
    kind = typed.type
    known = _shared_leaves.get(kind)
    if known is None:
        return typed
    value = typed.value
    if kind in ("S", "N"):
        if type(value) is not str or len(value) > SHARED_TEXT_MAX:
            return typed
    elif type(value) is not bool:  # BOOL, NULL: True == 1 must not find an N or another type's leaf
        return typed
    shared = known.get(value)
    if shared is not None:
        return shared
    if sum(map(len, _shared_leaves.values())) >= SHARED_LEAVES_MAX:  # only when a new value is kept
        for table in _shared_leaves.values():
            table.clear()
    # Not interned (patch 29): the leaf is what items share, and most new values are unique (timestamps,
    # sort keys) - an interned one costs ~38 B in the interpreter's table for as long as an item holds it.
    known[value] = typed
    return typed


def _share_texts(typed: Any) -> Any:
    """`typed` with its string values and map keys shared, or the shared `DynamoType` of its scalar value (a
    map is rebuilt only when one of its keys is not shared yet: an update walks its whole item again)."""
    kind = typed.type
    if kind == "M":
        typed.value = _share_map(typed.value, dict)
    elif kind == "L":
        elements = typed.value
        for index, element in enumerate(elements):
            shared = _share_texts(element)
            if shared is not element:
                elements[index] = shared
    else:
        return _shared_leaf(typed)
    return typed


def _share_map(mapping: dict[str, Any], empty: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Shares `mapping`'s values in place; returns it, or, when one of its keys is not shared yet, a new mapping
    from `empty()` with shared keys (set as dict's, below LimitedSizeDict's size check, which moto made)."""
    for key, value in mapping.items():
        shared = _share_texts(value)
        if shared is not value:
            dict.__setitem__(mapping, key, shared)  # a value replaced, no key added: the iteration is safe
    if all(_shared_text(key) is key for key in mapping):
        return mapping
    shared_keys = empty()
    for key, value in mapping.items():
        dict.__setitem__(shared_keys, _shared_text(key), value)
    return shared_keys


def _patch_item_init() -> None:
    global _original_item_init
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    if _original_item_init is None:
        _original_item_init = Item.__init__

    def item_init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key if hash_key is None else _shared_leaf(hash_key)
        self.range_key = range_key if range_key is None else _shared_leaf(range_key)
        limited = LimitedSizeDict()
        size = 0
        for key, value in attrs.items():
            typed = DynamoType(value)
            size += bytesize(key) + typed.size()
            dict.__setitem__(limited, _shared_text(key), _share_texts(typed))
        if size > ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        self.attrs = limited

    item_init.__wrapped__ = _original_item_init  # type: ignore[attr-defined]
    Item.__init__ = item_init  # type: ignore[method-assign]


def _share_item_texts(item: Any) -> None:
    """After an update: the names and values it set are the request's copies until shared here."""
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    item.attrs = _share_map(item.attrs, LimitedSizeDict)


def _patch_update_sharing() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.update_item
    if getattr(original, "_shares_texts", False):
        return

    @functools.wraps(original)
    def update_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        item = original(self, *args, **kwargs)
        if item is not None:
            _share_item_texts(item)
        return item

    update_item._shares_texts = True  # type: ignore[attr-defined]
    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]


# -- patch 30: an UpdateItem's size checked once -------------------------------------------------------


def item_attributes_size(attrs: Mapping[str, Any]) -> int:
    """moto's measure of an item (`LimitedSizeDict.__setitem__`'s sum): names and values."""
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.utilities import bytesize

    return sum(bytesize(k) + (v.size() if type(v) is DynamoType else bytesize(str(v))) for k, v in attrs.items())


def _patch_update_size_check() -> None:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict
    from moto.dynamodb.parsing.executors import UpdateExpressionExecutor

    if _originals_update_size:
        return
    original_execute = _originals_update_size["execute"] = UpdateExpressionExecutor.execute
    original_setitem = _originals_update_size["setitem"] = LimitedSizeDict.__setitem__

    def setitem(self: Any, key: str, value: Any) -> None:
        if getattr(_update_size, "deferred", False):
            dict.__setitem__(self, key, value)  # measured once, when the update's last action is done
        else:
            original_setitem(self, key, value)

    @functools.wraps(original_execute)
    def execute(self: Any, node: Any = None) -> None:
        if node is not None or getattr(_update_size, "deferred", False):
            return original_execute(self, node)  # a child node of the update being executed
        attrs = self.item.attrs
        before = dict(attrs)
        _update_size.deferred = True
        try:
            original_execute(self)
            if item_attributes_size(attrs) > ITEM_SIZE_LIMIT:
                raise ItemSizeTooLarge
        except BaseException:
            # The attributes as they were (a later action's error too: its earlier SETs are not kept). A value
            # changed in place (a nested path, ADD or DELETE on a set) stays changed, as moto leaves it anyway.
            dict.clear(attrs)
            dict.update(attrs, before)
            raise
        finally:
            _update_size.deferred = False
        return None

    LimitedSizeDict.__setitem__ = setitem  # type: ignore[method-assign]
    UpdateExpressionExecutor.execute = execute  # type: ignore[method-assign]


# -- patch 27: DynamoDB attribute values in two slots -----------------------------------------------------
# moto's `DynamoType` (an attribute value: its `type` and `value`) is a plain class, so each of the ~30 values
# of a stored contact item carried an instance dict as well: ~100 B a value, ~40 % of an item's memory in moto.
# The patch makes the same class with `__slots__ = ("type", "value")` (the same methods, name and module) and
# puts it wherever moto's modules had imported the old one; modules imported later take it from moto's
# `dynamo_type` module. Its instances hold nothing else anywhere in moto (`DYNAMO_TYPE_SHA256` pins the class,
# `SHARED_LEAF_SOURCES` every `.type =`/`.value =` of moto's DynamoDB code).
# sha256 of moto 5.2.5's DynamoType class (patch 27 copies it into a slotted one).
DYNAMO_TYPE_SHA256 = "72b795ad49f18bff"
# sha256 of every `.type = ` / `.value = ` assignment in moto's DynamoDB code (file, line text): patches 17 and
# 27 rely on a DynamoType getting its value only in __init__ and __deepcopy__.
SHARED_LEAF_SOURCES = "22467888d78aafed"
_original_dynamo_type: Any = None


def value_assignments() -> list[tuple[str, str]]:
    """(file, line) of every attribute assignment to `.type` or `.value` in moto's DynamoDB packages."""
    import moto

    base = Path(moto.__file__).parent
    found = []
    for folder in ("dynamodb", "dynamodbstreams"):
        for path in sorted((base / folder).rglob("*.py")):
            for line in path.read_text().splitlines():
                if re.search(r"\.(value|type)\s*(:[^=]+)?=[^=]", line) and not line.lstrip().startswith("#"):
                    found.append((str(path.relative_to(base)), line.strip()))
    return found


def slotted_class(cls: type) -> type:
    """`cls` again, its instances holding `type` and `value` in slots instead of an instance dict."""
    namespace = {k: v for k, v in cls.__dict__.items() if k not in ("__dict__", "__weakref__")}
    namespace["__slots__"] = ("type", "value")
    slotted = type(cls.__name__, cls.__bases__, namespace)
    slotted.__qualname__ = cls.__qualname__
    return slotted


def _patch_dynamo_type_slots() -> None:
    global _original_dynamo_type
    # Modules imported before this hold the old class (swapped below); later ones import the new one.
    from moto.dynamodb.models import dynamo_type

    if _original_dynamo_type is not None:
        return
    original = _original_dynamo_type = dynamo_type.DynamoType
    slotted = slotted_class(original)
    for module in list(sys.modules.values()):
        if getattr(module, "DynamoType", None) is original:
            module.DynamoType = slotted


# -- patch 9: the backend of a host, found once -------------------------------------------------------

def _patch_backend_for_host() -> None:
    global _original_get_backend_for_host
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.get_backend_for_host
    _original_get_backend_for_host = original
    known: dict[Any, Any] = {}

    @functools.wraps(original)
    def get_backend_for_host(self: Any, host: Any) -> Any:
        try:
            return known[host]
        except KeyError:
            backend = known[host] = original(self, host)
            return backend
        except TypeError:  # an unhashable host: moto's answer, not remembered
            return original(self, host)

    get_backend_for_host.cache = known  # type: ignore[attr-defined]
    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]


# -- patch 8: Query reads the partition it asks for --------------------------------------------------
_QUERY_SOURCE_MARKERS = (
    "for item in self.all_items()",  # both paths start from every item of the table ...
    "possible_results = self.sorted_items(",  # ... and sort what matched afterwards (index) ...
    "possible_results.sort(key=lambda item: item.range_key)",  # ... or by range key (table)
)
_original_query: Any = None
# patch 18: Table.query sizes each result twice (moto 5.2.5's source, checked before the memo is used)
_QUERY_SIZE_MARKERS = ("reached_size_limit = (result_size + result.size()) > RESULT_SIZE_LIMIT",
                       "result_size += result.size()")
_query_sizes = threading.local()  # .memo: id(item) -> size while this thread runs a query
# patch 19: the one deepcopy of Table.query's answer (moto 5.2.5's source)
_QUERY_DEEPCOPY_MARKER = "results = copy.deepcopy(results)"
# patch 26: the table path's sort key test (moto 5.2.5), the one patch 26's filter applies first
_QUERY_RANGE_MARKER = "if result.range_key.compare(range_comparison, range_objs):"
_original_item_size: Any = None


def _range_filter(arguments: dict[str, Any]) -> Callable[[Any], bool] | None:
    """A table Query's sort key condition as a test of a range key's value, with the comparison moto's
    loop applies to each sorted item (patch 26): the partition is filtered before moto sorts it, so a
    Query of the last minutes of a day's partition (the agents' activity spans, a Query per stream batch)
    sorts what it returns, not the whole day. Items outside the range only pass through moto's loop
    unused, so the answer is the same. None (the whole partition, as before): no condition; a legacy
    QueryFilter (that loop counts every item); a Limit (the item after the last match, in range or not,
    is what makes moto's loop answer a LastEvaluatedKey)."""
    comparison = arguments.get("range_comparison")
    if not comparison or arguments.get("filter_kwargs") or arguments.get("limit"):
        return None
    from moto.dynamodb.comparisons import get_comparison_func

    compare = get_comparison_func(comparison)
    if compare is None:
        return None
    bounds = [value.cast_value for value in arguments.get("range_objs") or ()]
    return lambda value: compare(value, *bounds)


def _same(held: Any, wanted: Any) -> bool:
    return held is not None and held.type == wanted.type and held.value == wanted.value


def _patch_queries() -> bool:
    """Make moto's `Table.query` read one partition (table queries) or iterate the table unsorted (index
    queries) instead of `all_items()`, which sorts every item of the table on every Query: with the demo's
    history (~25,000 items) one Query cost ~0.3 s on this machine and GET /metrics/historical for a week
    took 26 s. Results are identical: both paths sort what matched afterwards (checked in moto's source;
    False and nothing changed if that moved)."""
    global _original_query
    from moto.dynamodb.models.table import Table

    if _original_query is not None:
        return True
    source = source_of(Table.query)
    if not all(marker in source for marker in _QUERY_SOURCE_MARKERS):
        return False
    original = Table.query
    signature = inspect.signature(original)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        index_name = bound.arguments.get("index_name")
        if index_name:
            # Only items whose index hash key is the one asked (moto checks them again, on far fewer items):
            # plain comparison for strings and binaries; anything else goes through unfiltered.
            wanted = [(name, value) for name, value in (bound.arguments.get("hash_key_conditions") or ())
                      if value.type in ("S", "B")]

            def every_item() -> list[Any]:
                if len(wanted) == 1 and wanted[0][1].type == "S":
                    return index_map_items(self, wanted[0][0], wanted[0][1].value)  # patch 25
                partitions = [self.items] if not self.range_key_attr else list(self.items.values())
                if len(wanted) == 1:
                    # The usual case, in one comprehension (no call per item): it walks the whole table, which
                    # grows all day (the Contacts table's "waiting" index: a Query per routing decision).
                    ((name, value),) = wanted
                    kind, text = value.type, value.value
                    return [item for partition in partitions for item in partition.values()
                            if (held := item.attrs.get(name)) is not None and held.value == text and held.type == kind]
                everything = (item for partition in partitions for item in partition.values())
                if not wanted:
                    return list(everything)
                return [item for item in everything if all(_same(item.attrs.get(name), value) for name, value in wanted)]
        elif not self.range_key_attr:
            # A hash-only table: the one item with that key, or none (moto filters it by the key again).
            held = self.items.get(bound.arguments.get("hash_key"))

            def every_item() -> list[Any]:
                return [] if held is None else [held]
        else:
            # No partition with that key: no item (moto sorted the whole table to find none; a message Query for
            # a live contact, whose history partition is written when it ends, is one per offer pushed).
            partition = self.items.get(bound.arguments.get("hash_key")) or {}
            in_range = _range_filter(bound.arguments)

            def every_item() -> list[Any]:
                if in_range is None:
                    return list(partition.values())
                return [item for item in partition.values() if in_range(item.range_key.cast_value)]
        self.__dict__["all_items"] = every_item
        _query_sizes.memo = {} if _original_item_size is not None else None
        _query_sizes.sharing = True  # patch 19
        try:
            return original(self, *args, **kwargs)
        finally:
            self.__dict__.pop("all_items", None)
            _query_sizes.memo = None
            _query_sizes.sharing = False

    query.__wrapped__ = original  # type: ignore[attr-defined]
    _original_query = original
    Table.query = query
    _fast_query_responses()
    _patch_query_sizes(source)
    _patch_query_copies(source)
    return True


class _QueryResultCopies:
    """moto's table module's `copy`, but for the answer of the query this thread is running (patch 19)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        if getattr(_query_sizes, "sharing", False) and type(value) is list:
            _query_sizes.sharing = False  # the answer only: the first deepcopy of this query
            return list(value)
        return copy.deepcopy(value, memo)


def _patch_query_copies(query_source: str) -> None:
    from moto.dynamodb.models import table as table_module

    if query_source.count("copy.deepcopy(") != 1 or _QUERY_DEEPCOPY_MARKER not in query_source:
        return
    if not isinstance(table_module.copy, _QueryResultCopies):
        table_module.copy = _QueryResultCopies()  # type: ignore[assignment]


def _patch_query_sizes(query_source: str) -> None:
    """Patch 18: an item's size computed once per query (see the module's docstring)."""
    global _original_item_size
    from moto.dynamodb.models.dynamo_type import Item

    if _original_item_size is not None or not all(m in query_source for m in _QUERY_SIZE_MARKERS):
        return
    original = _original_item_size = Item.size

    def size(self: Any) -> int:
        memo = getattr(_query_sizes, "memo", None)
        if memo is None:
            return original(self)
        known = memo.get(id(self))
        if known is None:
            known = memo[id(self)] = original(self)
        return known

    size.__wrapped__ = original  # type: ignore[attr-defined]
    Item.size = size  # type: ignore[method-assign]


# The item operations whose DynamoResult is written as the JSON it already is (patch 8; every one checked
# equal to moto's serializer in tests/local/test_moto_patches_fast_json.py). At load they are most of
# what the handlers ask, and the generic shape walker was the largest part of moto's own CPU.
# Not DeleteItem: its result carries a `ConsumedCapacityUnits` the serializer drops (measured by that test).
FAST_JSON_OPERATIONS = frozenset({"Query", "Scan", "GetItem", "PutItem", "UpdateItem", "BatchGetItem",
                                  "TransactGetItems"})
_original_execute_result: Any = None


def _blob_as_base64(value: Any) -> str:
    """A binary attribute value ({"B": bytes}, {"BS": [bytes]}) as moto's serializer writes a blob. In these
    operations' answers the only blobs are attribute values; anything else JSON cannot write still raises."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).strip().decode("utf-8")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _fast_query_responses() -> None:
    """A Query's response body as the JSON its result already is (DynamoDB's JSON protocol: the
    members by name, attribute values as {"S": ...}), instead of moto's generic shape walker, which
    spent ~70 % of GET /metrics/historical (measured: 23 of 32 s profiled for a week). The same JSON
    (checked: equal to the serializer's output for History items); a result json cannot write as is
    (binary attributes are bytes) goes the generic way."""
    global _original_execute_result
    from moto.dynamodb.responses import DynamoResult

    original = DynamoResult.execute_result
    _original_execute_result = original

    def execute_result(self: Any, context: Any) -> Any:
        raw = self.result  # as moto's handler made it (patch 23: not converted to plain types yet)
        if context.operation_model.name in FAST_JSON_OPERATIONS and isinstance(raw, dict):
            try:
                body = json.dumps(raw, separators=(",", ":"), default=dynamo_json_default)
            except (TypeError, ValueError):
                converted_result(self)
                return original(self, context)
            return 200, {"Content-Type": "application/x-amz-json-1.0"}, body
        converted_result(self)
        return original(self, context)

    DynamoResult.execute_result = execute_result



# -- patch 6: transactions with an undo log ---------------------------------------------------------

class _UndoLog:
    """The items a transaction is about to replace, and where each touched table's stream shard stood."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.items: list[tuple[Any, Any, Any, Any]] = []  # (table, hash, range, previous Item or None)
        self.shards: dict[int, tuple[Any, list, int]] = {}  # id(table) -> (shard, its list, length)

    def remember(self, table_name: str, key: dict[str, Any], current: Any) -> None:
        table = self.backend.get_table(table_name)
        hash_value, range_value = self.backend.get_keys_value(table, key)
        # A copy: UpdateItem changes the stored Item in place (PutItem and DeleteItem replace it).
        self.items.append((table, hash_value, range_value, copy.deepcopy(current)))
        shard = table.stream_shard
        if shard is not None and id(table) not in self.shards:
            self.shards[id(table)] = (shard, shard.items, len(shard.items))

    def rollback(self) -> None:
        for table, hash_value, range_value, previous in reversed(self.items):
            if table.range_key_attr is not None:
                bucket = table.items[hash_value]
                if previous is None:
                    bucket.pop(range_value, None)
                    if not bucket:
                        table.items.pop(hash_value, None)
                else:
                    bucket[range_value] = previous
            elif previous is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = previous
        for shard, records, length in self.shards.values():
            # The writes' stream records go too (a moto event source mapping may already have taken
            # them, and emptied the list: then there is nothing left to drop, as with moto's copies).
            if shard.items is records:
                del records[length:]
        self.items.clear()
        self.shards.clear()


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto 5.2.5's DynamoDBBackend.transact_write_items with an undo log instead of table copies
    (module docstring, patch 6). Lines not marked "patch 6" are moto's."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    undo = _UndoLog(self)  # patch 6: instead of a deep copy of every table named

    target_items: set[tuple[str, str]] = set()

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise MultipleTransactionsException()
        target_items.add(item)

    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            undo.rollback()  # patch 6: all or nothing (moto left the earlier elements written)
            raise TransactWriteSingleOpException

        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")

            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            expression_attribute_names = op.get("ExpressionAttributeNames")
            expression_attribute_values = op.get("ExpressionAttributeValues")
            return_values_on_condition_check_failure = op.get("ReturnValuesOnConditionCheckFailure")

            if op_type == "Put":
                attrs = op["Item"]
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]

            check_unicity(table_name, key)

            current = self.get_item(table_name, key)
            if condition_expression is not None:
                condition_op = get_filter_expression(
                    condition_expression,
                    expression_attribute_names,
                    expression_attribute_values,
                )
                if not condition_op.expr(current):
                    if return_values_on_condition_check_failure == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)

            if op_type != "ConditionCheck":
                undo.remember(table_name, key, current)  # patch 6
            if op_type == "Put":
                attrs = op["Item"]
                self.put_item(
                    table_name,
                    attrs,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    table_name,
                    key,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == "Update":
                update_expression = op["UpdateExpression"]
                self.update_item(
                    table_name,
                    key,
                    update_expression=update_expression,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            # Rollback to the original state, and reraise the error
            undo.rollback()  # patch 6
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
        except Exception as e:  # noqa: BLE001 - moto's: every other failure cancels the transaction
            errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]

    if any(code is not None for code, _, _ in errors):
        # Rollback to the original state, and reraise the errors
        undo.rollback()  # patch 6
        raise TransactionCanceledException(errors)


def _patch_transact_write_items() -> None:
    global _original_transact_write_items
    from moto.dynamodb.models import DynamoDBBackend

    _original_transact_write_items = DynamoDBBackend.transact_write_items
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


# -- patch 7: weak instance tracking ------------------------------------------------------------------

class WeakInstances:
    """What moto's `instances_tracked` lists are used as (append, iterate, len), holding weak references.
    Dead references are dropped on an append once they are half of those held: at most ~2x what is alive."""

    __slots__ = ("_refs", "_lock", "_dead", "__weakref__")

    def __init__(self, objects: Any = ()) -> None:
        self._refs: list[Any] = []
        self._lock = threading.Lock()
        self._dead = 0  # referents gone since the last prune (approximate: counted without the lock)
        for obj in objects:
            self.append(obj)

    def _on_dead(self, _ref: Any) -> None:
        self._dead += 1  # no lock: this runs wherever the object happens to be freed

    def append(self, obj: Any) -> None:
        try:
            ref: Any = weakref.ref(obj, self._on_dead)
        except TypeError:  # cannot be weakly referenced: kept alive, as moto's list did
            ref = functools.partial(_identity, obj)
        with self._lock:
            self._refs.append(ref)
            if len(self._refs) > 64 and 2 * self._dead >= len(self._refs):
                self._dead = 0
                self._refs = [r for r in self._refs if r() is not None]

    def _alive(self) -> list[Any]:
        with self._lock:
            refs = list(self._refs)
        return [o for o in (r() for r in refs) if o is not None]

    def __iter__(self) -> Any:
        return iter(self._alive())

    def __len__(self) -> int:
        return len(self._alive())

    def __bool__(self) -> bool:
        return bool(self._alive())

    def refs_held(self) -> int:
        """References held, dead ones not yet pruned included (what the tracker costs)."""
        return len(self._refs)

    def __repr__(self) -> str:
        return f"WeakInstances({len(self)} alive)"


def _identity(obj: Any) -> Any:
    return obj


_tracking_lock = threading.Lock()


def _weak_tracker(cls: Any) -> WeakInstances:
    tracked = cls.__dict__.get("instances_tracked")
    if isinstance(tracked, WeakInstances):
        return tracked
    with _tracking_lock:
        tracked = cls.__dict__.get("instances_tracked")
        if not isinstance(tracked, WeakInstances):
            tracked = WeakInstances(tracked or ())
            cls.instances_tracked = tracked
        return tracked


UNTRACKED_MODELS = (
    ("moto.dynamodb.models.dynamo_type", "Item"),
    ("moto.kinesis.models", "Record"),
    ("moto.cloudwatch.models", "MetricDatum"),
)


def _untracked_classes() -> list[tuple[str, Any]]:
    """(dotted name, the class or None when moto no longer has it) for each of UNTRACKED_MODELS."""
    import importlib

    return [(f"{module}.{name}", getattr(importlib.import_module(module), name, None))
            for module, name in UNTRACKED_MODELS]


def _patch_instance_tracking() -> None:
    global _original_base_model_new
    from moto.core.common_models import BaseModel
    from moto.core.model_instances import model_data

    _original_base_model_new = BaseModel.__dict__["__new__"]

    untracked = frozenset(cls for _, cls in _untracked_classes())  # nothing appended: the dashboard lists none

    def __new__(cls: Any, *args: Any, **kwargs: Any) -> Any:
        instance = super(BaseModel, cls).__new__(cls)
        if cls not in untracked:
            _weak_tracker(cls).append(instance)
        return instance

    BaseModel.__new__ = __new__  # type: ignore[method-assign,assignment]
    for models in list(model_data.values()):
        for cls in list(models.values()):
            if isinstance(cls, type) and issubclass(cls, BaseModel) and cls is not BaseModel:
                _weak_tracker(cls)


def _operation_model(task: Any) -> Any:

    service = task._get_boto_service_name()
    action = task.resource.api_action  # e.g. startExecution
    model = _service_model(service)
    name = action[:1].upper() + action[1:]
    return model.operation_model(name) if name in model.operation_names else None


@functools.lru_cache(maxsize=64)
def _service_model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


def to_input_shape(value: Any, shape: Any) -> Any:
    """ASL parameter names -> the SDK's member names (case-insensitive), following the input shape."""
    if shape is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        members = {k.lower(): k for k in shape.members}
        out = {}
        for key, item in value.items():
            name = members.get(key.lower(), key)
            out[name] = to_input_shape(item, shape.members.get(name))
        return out
    if shape.type_name == "list" and isinstance(value, list):
        return [to_input_shape(v, shape.member) for v in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: to_input_shape(v, shape.value) for k, v in value.items()}
    return value


def to_pascal_output(value: Any, shape: Any) -> Any:
    """SDK response member names -> PascalCase (what aws-sdk integrations return on AWS); timestamps
    as ISO 8601 strings (the execution's JSON cannot hold a datetime)."""
    import datetime as _dt

    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if shape is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        out = {}
        for key, item in value.items():
            member = shape.members.get(key)
            out[key[:1].upper() + key[1:]] = to_pascal_output(item, member)
        return out
    if shape.type_name == "list" and isinstance(value, list):
        return [to_pascal_output(v, shape.member) for v in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: to_pascal_output(v, shape.value) for k, v in value.items()}
    return value


def _patch_service_task_parameters() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk,
        state_task_service_sfn,
    )

    def wrap_parameters(cls: Any, key: str) -> None:
        original = cls.__dict__.get("_normalise_parameters") or getattr(cls, "_normalise_parameters")
        _originals_sfn[key] = original

        def _normalise_parameters(self: Any, parameters: dict, boto_service_name: Any = None, service_action_name: Any = None) -> None:
            original(self, parameters, boto_service_name, service_action_name)
            if boto_service_name is None and service_action_name is None:
                op = _operation_model(self)
                if op is not None and op.input_shape is not None:
                    mapped = to_input_shape(dict(parameters), op.input_shape)
                    parameters.clear()
                    parameters.update(mapped)

        cls._normalise_parameters = _normalise_parameters

    wrap_parameters(state_task_service_aws_sdk.StateTaskServiceAwsSdk, "aws_sdk")
    wrap_parameters(state_task_service_sfn.StateTaskServiceSfn, "sfn")

    def wrap_response(cls: Any, key: str, sync_too: bool) -> None:
        original_response = getattr(cls, "_normalise_response")
        _originals_sfn[key] = original_response

        def _normalise_response(self: Any, response: Any, boto_service_name: Any = None, service_action_name: Any = None) -> None:
            original_response(self, response, boto_service_name, service_action_name)
            if not isinstance(response, dict) or boto_service_name is not None or service_action_name is not None:
                return
            if not sync_too and self.resource.condition is not None:
                return  # .sync / .waitForTaskToken outputs are built by moto itself
            op = _operation_model(self)
            if op is not None and op.output_shape is not None:
                mapped = to_pascal_output(dict(response), op.output_shape)
                response.clear()
                response.update(mapped)

        cls._normalise_response = _normalise_response

    wrap_response(state_task_service_aws_sdk.StateTaskServiceAwsSdk, "aws_sdk_response", sync_too=True)
    wrap_response(state_task_service_sfn.StateTaskServiceSfn, "sfn_response", sync_too=False)


def enable_step_functions_execution() -> None:
    global _previous_sfn_config
    from moto.core.config import default_user_config

    current = default_user_config.setdefault("stepfunctions", {})  # type: ignore[typeddict-item]
    if _previous_sfn_config is None:
        _previous_sfn_config = dict(current)
    current["execute_state_machine"] = True


def restore_step_functions_config() -> None:
    """Put the flag back (other tests in the same process may use mock_aws without it)."""
    global _previous_sfn_config
    from moto.core.config import default_user_config

    if _previous_sfn_config is not None:
        default_user_config["stepfunctions"] = dict(_previous_sfn_config)  # type: ignore[typeddict-item]
        _previous_sfn_config = None


def applied() -> bool:
    return _applied


# -- patch 31: one import of Cognito's signing key -----------------------------------------------------
_cognito_keys: dict[str, Any] = {}


def _patch_cognito_key() -> None:
    """moto.cognitoidp.models' `jwk` with `RSAKey.import_key` remembered per key document (patch 31)."""
    import types

    from joserfc import jwk
    from moto.cognitoidp import models

    if getattr(models.jwk, "remembers_keys", False):
        return

    def import_key(data: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or not isinstance(data, dict):
            return jwk.RSAKey.import_key(data, *args, **kwargs)
        document = json.dumps(data, sort_keys=True)
        if document not in _cognito_keys:
            _cognito_keys[document] = jwk.RSAKey.import_key(data)
        return _cognito_keys[document]

    models.jwk = types.SimpleNamespace(RSAKey=types.SimpleNamespace(import_key=import_key), remembers_keys=True)
