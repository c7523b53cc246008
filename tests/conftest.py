"""Shared fixtures. Tests never reach the network or a real AWS account."""
from __future__ import annotations

import os

import pytest

# Any boto3 client a test forgets to mock fails fast instead of finding real credentials.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_SESSION_TOKEN", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "CcaasTest")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "tests")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")


def _share_botocore_data_loader() -> None:
    """Every botocore session of the test process reads the SDK's JSON models once. A new session parses
    endpoints.json and each service model again (~0.3 s a session), and the moto tiers make hundreds of
    sessions (the deployer makes one per client, each module deploys the stack). Within one session
    botocore already shares these parsed models read-only; here the sessions share one loader too.
    boto3 appends its data folder to the loader's search paths once per session: kept unique."""
    import botocore.session

    original = botocore.session.create_loader
    shared: dict[str | None, object] = {}

    class UniquePaths(list):
        def append(self, item: object) -> None:
            if item not in self:
                super().append(item)

    def create_loader(search_path_string: str | None = None):  # noqa: ANN202 (botocore's signature)
        loader = shared.get(search_path_string)
        if loader is None:
            loader = original(search_path_string)
            loader._search_paths = UniquePaths(loader._search_paths)
            shared[search_path_string] = loader
        return loader

    botocore.session.create_loader = create_loader


_share_botocore_data_loader()


@pytest.fixture(scope="module")
def runtime():
    """A local runtime per test module (its own moto, stack and seeded demo, serving only: a test that
    wants traffic starts a Simulation). Modules that start it otherwise define their own."""
    from local.runtime import LocalRuntime

    rt = LocalRuntime()
    rt.start()
    yield rt
    rt.stop()
