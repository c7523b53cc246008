"""The CDK app (never imported by Lambda code). Importing any infra module first sets up the jsii
environment (infra.jsii_env: which Node to run, no end-of-life banners) before aws_cdk loads; it only
sets environment variables that are unset, so it is harmless for infra.naming/infra.asl users."""
from infra import jsii_env as _jsii_env  # noqa: F401
