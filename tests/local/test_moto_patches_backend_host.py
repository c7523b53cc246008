"""moto patch 9 (local.moto_patches): the server app's backend lookup is remembered per host, with moto's
answers, and the patch fails loudly when moto's method changes."""
from __future__ import annotations

import hashlib
import inspect

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from local import moto_patches

HOSTS = (
    None, "moto_api", "dynamodb", "dynamodb.us-east-1.amazonaws.com", "kinesis.eu-west-1.amazonaws.com",
    "states.us-east-1.amazonaws.com", "s3.amazonaws.com", "bucket.s3.amazonaws.com", "lambda.us-east-1.amazonaws.com",
    "example.org", "sqs.us-east-1.amazonaws.com",
)


def test_the_pinned_source_is_the_installed_one():
    moto_patches.apply()
    original = moto_patches._original_get_backend_for_host  # noqa: SLF001
    assert original is not None
    digest = hashlib.sha256(inspect.getsource(original).encode()).hexdigest()[:16]
    assert digest == moto_patches.GET_BACKEND_FOR_HOST_SHA256
    assert not [p for p in moto_patches.problems(include_version=False) if "get_backend_for_host" in p]


def test_same_answers_as_moto_and_remembered():
    moto_patches.apply()
    app = DomainDispatcherApplication(create_backend_app)
    original = moto_patches._original_get_backend_for_host  # noqa: SLF001
    expected = {host: original(app, host) for host in HOSTS}
    assert expected["dynamodb.us-east-1.amazonaws.com"] == "dynamodb" and expected["example.org"] is None
    assert {host: app.get_backend_for_host(host) for host in HOSTS} == expected
    assert {host: app.get_backend_for_host(host) for host in HOSTS} == expected  # from the memo now
    memo = DomainDispatcherApplication.get_backend_for_host.cache
    assert set(HOSTS) <= set(memo)


def test_a_changed_method_is_reported(monkeypatch):
    moto_patches.apply()
    monkeypatch.setattr(moto_patches, "GET_BACKEND_FOR_HOST_SHA256", "0" * 16)
    assert any("get_backend_for_host changed" in p for p in moto_patches.problems(include_version=False))
