"""infra.publish_wallboard: wallboard/ to the bucket with the right content types, stale files removed,
the distribution invalidated (on moto's S3 and CloudFront, no synthesis)."""
from __future__ import annotations

import boto3
from moto import mock_aws

from infra.publish_wallboard import SOURCE, publish, stack_outputs


def test_publish_uploads_typed_files_removes_stale_ones_and_invalidates():
    with mock_aws():
        s3, cloudfront = boto3.client("s3", region_name="us-east-1"), boto3.client("cloudfront", region_name="us-east-1")
        s3.create_bucket(Bucket="wallboard")
        s3.put_object(Bucket="wallboard", Key="old.js", Body=b"stale")
        distribution = cloudfront.create_distribution(DistributionConfig={
            "CallerReference": "t", "Comment": "", "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": "wallboard.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "redirect-to-https", "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
        })["Distribution"]["Id"]  # fmt: skip
        keys = publish(s3, cloudfront, "wallboard", distribution)
        assert {"index.html", "wallboard.js", "wallboard.css"} <= set(keys)
        stored = {o["Key"] for o in s3.list_objects_v2(Bucket="wallboard")["Contents"]}
        assert stored == set(keys)  # old.js is gone
        head = s3.head_object(Bucket="wallboard", Key="wallboard.js")
        assert head["ContentType"] == "text/javascript; charset=utf-8" and head["CacheControl"] == "no-cache"
        assert s3.head_object(Bucket="wallboard", Key="index.html")["ContentType"].startswith("text/html")
        assert s3.get_object(Bucket="wallboard", Key="index.html")["Body"].read() == (SOURCE / "index.html").read_bytes()
        (invalidation,) = cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"]["Items"]
        assert invalidation["Id"]


def test_stack_outputs_reads_the_named_outputs():
    class Cfn:
        def describe_stacks(self, StackName):  # noqa: N803 - boto3's spelling
            assert StackName == "Ccaas"
            return {"Stacks": [{"Outputs": [{"OutputKey": "WallboardBucketName", "OutputValue": "b"}]}]}

    assert stack_outputs(Cfn(), "Ccaas") == {"WallboardBucketName": "b"}
