"""The wallboard (wallboard/*.html|js|css, no build step) as static assets: a private S3 bucket behind
CloudFront (origin access control), and the API on the same distribution under /<stage>/*, so the
page calls the API same-origin (no CORS), as it does on the local runtime.

The files are uploaded by `python -m infra.publish_wallboard` (run by `make deploy`), not by a CDK
BucketDeployment: that would add a CDK-managed Lambda (custom resource with the AWS CLI layer)
outside the one function factory, with its own IAM wildcards and runtime to justify.
"""
from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.nag import acknowledge

WALLBOARD_DIR = "wallboard"


class Wallboard(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, rest_api: apigw.RestApi, stage_name: str, removal_policy: RemovalPolicy
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Assets",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=removal_policy,
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "The bucket holds only the wallboard's public static files (HTML/JS/CSS, no data), is private "
            "and readable only by CloudFront (origin access control); data access is logged at the API stage.",
        )

        stack = Stack.of(self)
        api_origin = origins.HttpOrigin(
            f"{rest_api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}",
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="CCaaS wallboard (static) + the API under the same origin",
            default_root_object="index.html",
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
            ),
            additional_behaviors={
                # Never cached; every viewer header but Host (API Gateway routes on its own host name),
                # which includes Authorization: CloudFront forwards it when caching is disabled.
                f"/{stage_name}/*": cloudfront.BehaviorOptions(
                    origin=api_origin,
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                    origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                ),
            },
        )
        for rule, reason in (
            ("AwsSolutions-CFR1", "Contact centers and their supervisors are wherever the tenant operates; a geo "
                                  "restriction is a per-tenant/per-environment decision, not a default."),
            ("AwsSolutions-CFR2", "No WAFv2 web ACL in this stack (as for the API stage, APIG3): every data "
                                  "request needs a tenant API key; a web ACL is attached per environment."),
            ("AwsSolutions-CFR3", "The distribution serves static files without data and proxies the API, whose "
                                  "stage has JSON access logs; standard logs would need a legacy ACL-enabled bucket."),
            ("AwsSolutions-CFR4", "The default *.cloudfront.net certificate allows TLSv1 to viewers; a custom "
                                  "domain with an ACM certificate and TLSv1.2_2021 is set per environment."),
        ):  # fmt: skip
            acknowledge(self.distribution, rule, reason)

    @property
    def url(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}"
