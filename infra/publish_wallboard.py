"""Upload wallboard/ to the deployed stack's bucket and invalidate its CloudFront distribution.

`make deploy` runs it after `cdk deploy`; by hand: `python -m infra.publish_wallboard [--stack Ccaas]`
(AWS credentials for the stack's account and region). Files are uploaded with their content type and
`Cache-Control: no-cache` (CloudFront revalidates, so a new version shows at once after the
invalidation); objects that are no longer in wallboard/ are deleted.
"""
from __future__ import annotations

import argparse
import mimetypes
import sys
import time
from pathlib import Path
from typing import Any

from infra.naming import ROOT, STACK_NAME

SOURCE = ROOT / "wallboard"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def publish(s3: Any, cloudfront: Any, bucket: str, distribution_id: str, source: Path = SOURCE) -> list[str]:
    """Returns the keys uploaded."""
    files = {p.relative_to(source).as_posix(): p for p in sorted(source.rglob("*")) if p.is_file()}
    if "index.html" not in files:
        raise FileNotFoundError(f"{source}/index.html not found")
    for key, path in files.items():
        content_type = CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=content_type, CacheControl="no-cache")
    stale = [
        obj["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for obj in page.get("Contents", [])
        if obj["Key"] not in files
    ]
    for start in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[start : start + 1000]]})
    cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": f"wallboard-{time.time_ns()}"},
    )
    return list(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default=STACK_NAME)
    args = parser.parse_args(argv)
    import boto3

    session = boto3.session.Session()
    outputs = stack_outputs(session.client("cloudformation"), args.stack)
    keys = publish(session.client("s3"), session.client("cloudfront"), outputs["WallboardBucketName"], outputs["WallboardDistributionId"])
    print(f"wallboard: {len(keys)} files -> s3://{outputs['WallboardBucketName']}; {outputs['WallboardUrl']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
