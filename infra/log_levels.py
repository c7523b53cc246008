"""What each service writes to CloudWatch Logs, in one place (logs were ~13 % of the cost per contact).

- Lambda: JSON log format with the *system* log level WARN, which drops the platform's START/END/REPORT
  lines (~400 B per invocation, ~50 invocations per contact; duration and errors stay in Lambda's own
  metrics and X-Ray). Application logs stay at INFO: one summary line per batch or request, and the EMF
  documents that are the live metrics.
- API Gateway (REST): execution logging ERROR instead of INFO (INFO writes ~10-20 lines per request);
  the JSON access log keeps one line per request.
- Step Functions: the Standard lifecycle logs ERROR only: the service keeps each execution's full history
  for 90 days (GetExecutionHistory, the console), so logging it ALL again paid twice. The Express
  post-contact run has no kept history, so it still logs ALL events. Neither logs execution data:
  inputs carry contact attributes.
"""
from __future__ import annotations

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn

LAMBDA_LOG_FORMAT = lambda_.LoggingFormat.JSON
LAMBDA_SYSTEM_LOG_LEVEL = lambda_.SystemLogLevel.WARN
LAMBDA_APPLICATION_LOG_LEVEL = lambda_.ApplicationLogLevel.INFO  # = the LOG_LEVEL Powertools reads
REST_EXECUTION_LOG_LEVEL = apigw.MethodLoggingLevel.ERROR
STANDARD_STATE_MACHINE_LOG_LEVEL = sfn.LogLevel.ERROR
EXPRESS_STATE_MACHINE_LOG_LEVEL = sfn.LogLevel.ALL
STATE_MACHINE_EXECUTION_DATA = False
