"""ccaas.logs.handler_logger: a handler's Powertools Logger neither drops the shared package's records whose
logger name contains the service name (Powertools' root filter matches by substring: functions/connect_flow lost
every line of ccaas.usecases.connect_flow) nor has its own records printed twice by the runtime's root handler."""
from __future__ import annotations

import logging

import pytest

from tests.lambda_harness import load_module


class Kept(logging.Handler):
    """Stands for the Lambda runtime's handler on the root logger."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def root_handler(monkeypatch):
    kept = Kept()
    logging.root.addHandler(kept)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "connect_flow")
    yield kept
    logging.root.removeHandler(kept)


def test_the_shared_package_s_records_reach_the_root_handler_whatever_the_service_is_called(root_handler):
    from ccaas.logs import handler_logger

    logger = handler_logger()
    logging.getLogger("ccaas.usecases.connect_flow").error("connect flow action failed")
    logger.info("flow action answered")
    assert [r.getMessage() for r in root_handler.records] == ["connect flow action failed"]  # its own: printed once
    assert logger.service == "connect_flow"


def test_every_handler_builds_its_logger_so(root_handler):
    module = load_module("connect_flow", prefix="logs")
    assert not any(type(f).__name__ == "SuppressFilter" for f in root_handler.filters)
    module.logger.info("flow action answered")
    logging.getLogger("ccaas.usecases.connect_flow").warning("kept")
    assert [r.getMessage() for r in root_handler.records] == ["kept"]
    assert logging.getLogger(module.logger.name).handlers  # printed by its own handler, once


def test_the_functions_build_no_logger_of_their_own():
    from infra.naming import FUNCTIONS_DIR

    handlers = sorted(FUNCTIONS_DIR.glob("*/handler.py"))
    assert len(handlers) >= 18
    for path in handlers:
        source = path.read_text()
        assert "Logger()" not in source and "logger = handler_logger()" in source, path.parent.name
