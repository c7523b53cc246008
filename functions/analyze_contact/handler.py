"""Post-contact step AnalyzeTranscript: analyse the contact's chat transcript (redacted first) and
store the result. Returns scores only; no text ever leaves the step. With the analytics lake, the
stored summary (never text) and a contact-record snapshot carrying the evaluation are exported after
the write; a delivery the lake refuses raises LakeExportFailed and fails the step (never a silent skip;
running the step again re-analyses and exports again)."""
from __future__ import annotations

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from ccaas.bootstrap import dependencies
from ccaas.steps import ContactStep
from ccaas.usecases.analytics import analyze_contact
from ccaas.logs import handler_logger
from ccaas.tracing import lambda_tracer

logger = handler_logger()  # Powertools' Logger (ccaas.logs: no root filter by name)
tracer = lambda_tracer()  # X-Ray only when tracing is on (ccaas.tracing)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=ContactStep)
def lambda_handler(event: ContactStep, context: LambdaContext) -> dict:
    logger.append_keys(tenant_id=event.tenant_id, contact_id=event.contact_id)
    summary = analyze_contact(dependencies(), event.tenant_id, event.contact_id)
    if summary is None:
        return {"analyzed": False}
    result = {"analyzed": True, "qa_score": summary.qa_score, "categories": list(summary.categories)}
    logger.info("transcript analysed", extra=result)
    return result
