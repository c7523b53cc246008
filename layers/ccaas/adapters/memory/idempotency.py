"""The in-memory twin of Powertools' DynamoDBPersistenceLayer (idempotency records in a dict).

Same semantics as the DynamoDB layer, which tests/contract/test_idempotency_store.py checks on both:
- the in-progress write is conditional: it succeeds only when there is no record, the record has
  expired, or it is an in-progress record whose invocation ran out of time; otherwise it fails with the
  stored record attached (its payload hash checked first, as ReturnValuesOnConditionCheckFailure does);
- the success write is an upsert; a delete removes the record.

Time is the wall clock, as in Powertools; `age(seconds)` moves every stored record that much into the
past (a test's "24 hours later") without touching the clock.
"""
from __future__ import annotations

import threading
import time

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import STATUS_CONSTANTS, DataRecord


def _copy(record: DataRecord, **changes: object) -> DataRecord:
    fields = {
        "idempotency_key": record.idempotency_key,
        "status": record._status,  # the stored status, not the one derived from the expiry
        "expiry_timestamp": record.expiry_timestamp,
        "in_progress_expiry_timestamp": record.in_progress_expiry_timestamp,
        "response_data": record.response_data,
        "payload_hash": record.payload_hash,
        "sort_key": record.sort_key,
    }
    fields.update(changes)
    return DataRecord(**fields)  # type: ignore[arg-type]


class MemoryIdempotencyStore(BasePersistenceLayer):
    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.records: dict[str, DataRecord] = {}

    def _get_record(self, idempotency_key: str) -> DataRecord:
        with self._lock:
            record = self.records.get(idempotency_key)
        if record is None:
            raise IdempotencyItemNotFoundError
        return _copy(record)

    def _put_record(self, data_record: DataRecord) -> None:
        now_s = time.time()
        with self._lock:
            stored = self.records.get(data_record.idempotency_key)
            if stored is None or not self._holds(stored, now_s):
                self.records[data_record.idempotency_key] = _copy(data_record)
                return
            stored = _copy(stored)
        self._validate_payload(data_payload=data_record, stored_data_record=stored)
        raise IdempotencyItemAlreadyExistsError(old_data_record=stored)

    @staticmethod
    def _holds(stored: DataRecord, now_s: float) -> bool:
        """DynamoDBPersistenceLayer's put condition, negated: the record still holds its key."""
        if stored.expiry_timestamp is not None and stored.expiry_timestamp < int(now_s):
            return False
        timed_out = stored.in_progress_expiry_timestamp is not None and stored.in_progress_expiry_timestamp < int(now_s * 1000)
        return not (stored._status == STATUS_CONSTANTS["INPROGRESS"] and timed_out)

    def _update_record(self, data_record: DataRecord) -> None:
        with self._lock:
            stored = self.records.get(data_record.idempotency_key)
            in_progress = stored.in_progress_expiry_timestamp if stored else None
            self.records[data_record.idempotency_key] = _copy(data_record, in_progress_expiry_timestamp=in_progress)

    def _delete_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self.records.pop(data_record.idempotency_key, None)

    def age(self, seconds: float) -> None:
        """Every stored record as it will be `seconds` from now (expiries moved into the past)."""
        with self._lock:
            for key, record in self.records.items():
                changes: dict[str, object] = {}
                if record.expiry_timestamp is not None:
                    changes["expiry_timestamp"] = record.expiry_timestamp - int(seconds)
                if record.in_progress_expiry_timestamp is not None:
                    changes["in_progress_expiry_timestamp"] = record.in_progress_expiry_timestamp - int(seconds * 1000)
                self.records[key] = _copy(record, **changes)
