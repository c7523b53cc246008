"""Powertools' Logger for a Lambda handler, without the root-handler filter that loses the shared package's lines.

Powertools keeps a handler's own records from being printed twice (by its handler, then by the runtime's root
handler they propagate to) with a filter on the root's handlers that drops every record whose logger name
*contains* the service name (POWERTOOLS_SERVICE_NAME, each function's folder). A function named connect_flow
therefore lost every line of `ccaas.usecases.connect_flow`, its internal_error tracebacks included, on AWS and
locally (outside review). Not propagating the handler's own logger does the filter's job without the name match.
"""
from __future__ import annotations

import logging

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.filters import SuppressFilter


def handler_logger() -> Logger:
    logger = Logger()
    logging.getLogger(logger.name).propagate = False  # printed once, by its own handler
    for handler in logging.root.handlers:
        for name_filter in [f for f in handler.filters if isinstance(f, SuppressFilter) and f.logger == logger.service]:
            handler.removeFilter(name_filter)
    return logger
