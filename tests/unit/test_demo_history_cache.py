"""local.demo_history's start-up shortcuts: the prepared items cached per (inputs, source code) and
reused by a second start, and moto items built directly the same as moto builds them."""
from __future__ import annotations

import gc
import pickle
from datetime import date

from local import demo_history
from local.seed import DEMO

END = date(2026, 11, 29)
PLAN = demo_history.HistoryPlan(days=3)


def test_a_second_prepare_reuses_the_items_and_a_change_of_input_does_not(tmp_path):
    first = demo_history.prepare(DEMO, end_day=END, plan=PLAN, cache_dir=tmp_path)
    assert not first.cached and len(list(tmp_path.glob("history-*.pickle"))) == 1
    again = demo_history.prepare(DEMO, end_day=END, plan=PLAN, cache_dir=tmp_path)
    assert again.cached and again.items == first.items and again.counts == first.counts
    assert (again.first_day, again.last_day) == (first.first_day, first.last_day)
    # what generate + history_items give, item for item
    generated = demo_history.generate(DEMO, end_day=END, plan=PLAN)
    assert list(demo_history.history_items(generated)) == first.items and generated.counts() == first.counts
    # another day, plan or seed is another key: generated anew; the cache keeps the latest CACHE_FILES
    other = demo_history.prepare(DEMO, end_day=END, plan=demo_history.HistoryPlan(days=3, seed=99), cache_dir=tmp_path)
    assert not other.cached and other.items != first.items
    assert len(list(tmp_path.glob("history-*.pickle"))) == 2
    for seed in range(100, 100 + demo_history.CACHE_FILES):
        demo_history.prepare(DEMO, end_day=END, plan=demo_history.HistoryPlan(days=1, seed=seed), cache_dir=tmp_path)
    assert len(list(tmp_path.glob("history-*.pickle"))) == demo_history.CACHE_FILES
    keys = {demo_history.cache_key(DEMO, END, PLAN), demo_history.cache_key(DEMO, date(2026, 11, 28), PLAN),
            demo_history.cache_key(DEMO, END, demo_history.HistoryPlan(days=4))}
    assert len(keys) == 3


def test_the_key_follows_the_source_code(tmp_path):
    ccaas = tmp_path / "ccaas"
    (ccaas / "domain").mkdir(parents=True)
    module = ccaas / "domain" / "m.py"
    module.write_text("X = 1\n")
    before = demo_history.cache_key(DEMO, END, PLAN, ccaas_dir=ccaas)
    assert demo_history.cache_key(DEMO, END, PLAN, ccaas_dir=ccaas) == before
    module.write_text("X = 2\n")
    assert demo_history.cache_key(DEMO, END, PLAN, ccaas_dir=ccaas) != before


def test_a_torn_cache_file_is_generated_again(tmp_path):
    path = tmp_path / f"history-{demo_history.cache_key(DEMO, END, PLAN)}.pickle"
    path.write_bytes(b"not a pickle")
    prepared = demo_history.prepare(DEMO, end_day=END, plan=PLAN, cache_dir=tmp_path)
    assert not prepared.cached and prepared.items
    assert isinstance(pickle.loads(path.read_bytes()), demo_history.PreparedHistory)  # rewritten whole
    assert not demo_history.prepare(DEMO, end_day=END, plan=PLAN, cache_dir=None).cached


def test_moto_items_are_built_as_moto_builds_them():
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    items = demo_history.prepare(DEMO, end_day=END, plan=PLAN, cache_dir=None).items
    items.append({"pk": {"S": "p"}, "sk": {"S": "s"}, "n": {"N": "3"}, "b": {"BOOL": True},
                  "m": {"M": {"k": {"L": [{"S": "v"}]}}}})
    for item in items[:200] + items[-1:]:
        built = demo_history._moto_item(item)
        own = Item(DynamoType(item["pk"]), DynamoType(item["sk"]), item)
        assert built == own and type(built.attrs) is type(own.attrs)
        assert built.to_json() == own.to_json()


def test_generation_leaves_the_collector_as_it_found_it():
    assert gc.isenabled()
    demo_history.generate(DEMO, end_day=END, plan=demo_history.HistoryPlan(days=1))
    assert gc.isenabled()
    gc.disable()
    try:
        demo_history.generate(DEMO, end_day=END, plan=demo_history.HistoryPlan(days=1))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_prepared_history_of_matches_the_generated():
    generated = demo_history.generate(DEMO, end_day=END, plan=demo_history.HistoryPlan(days=1))
    prepared = demo_history.PreparedHistory.of(generated)
    assert prepared.counts == generated.counts() and prepared.tenant_id == "demo" and not prepared.cached
