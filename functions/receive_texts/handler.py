"""SNS subscriber: the texts customers send to the tenants' numbers (AWS End User Messaging SMS two-way messaging
publishes each to the stack's inbound-texts topic, output `InboundTextsTopicArn`).

A whole-message opt-out keyword (STOP, UNSUBSCRIBE, REVOKE …) suppresses the sender's number for the tenant the
receiving number is registered to (ccaas.usecases.outbound.inbound_sms): every campaign's next check refuses it,
calls included (End User Messaging's own opt-out list stops only further texts). Any other text is left to the
conversation the tenant runs on it. A message that cannot be read, or that came to a number no tenant registered,
fails the invocation: SNS delivers asynchronously, Lambda retries twice, then the message goes to the dead-letter
queue (never dropped). Logs carry no phone number and no message text.
"""
from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.logs import handler_logger
from ccaas.tracing import lambda_tracer
from ccaas.usecases.outbound import inbound_sms

logger = handler_logger()  # Powertools' Logger (ccaas.logs: no root filter by name)
tracer = lambda_tracer()  # X-Ray only when tracing is on (ccaas.tracing)
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=SNSEvent)
def lambda_handler(event: SNSEvent, context: LambdaContext) -> dict:
    opted_out = 0
    for record in event.records:
        opted_out += len(inbound_sms(dependencies(), record.sns.message))
    if opted_out:
        metrics.add_metric(name="TextOptOuts", unit=MetricUnit.Count, value=opted_out)
    logger.info("inbound texts read", extra={"texts": len(list(event.records)), "opted_out": opted_out})
    return {"opted_out": opted_out}
