"""The Transcript store's conditional analysis write (evaluation overrides must never be lost to a
concurrent writer): one suite, in memory and on (moto) AWS."""
from __future__ import annotations

import uuid

import pytest

from ccaas.domain.history import AnalysisSummary
from ccaas.domain.models import Conflict
from ccaas.domain.tenants import Tenant

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]


@pytest.fixture
def tenant(deps):
    tenant_id = f"t{uuid.uuid4().hex[:10]}"
    deps.config.put_tenant(Tenant(tenant_id=tenant_id, name="Analyses"))
    return tenant_id


def test_an_analysis_write_is_conditional_on_the_version_read(deps, tenant):
    put = deps.transcripts.put_analysis
    put(tenant, "c1", {"segments": [], "version": 1}, AnalysisSummary(qa_score=50), expected_version=0)
    with pytest.raises(Conflict):  # someone else's first write already landed
        put(tenant, "c1", {"segments": [], "version": 1}, AnalysisSummary(qa_score=10), expected_version=0)
    put(tenant, "c1", {"segments": [], "version": 2, "overrides": {"q": {}}}, AnalysisSummary(qa_score=70), expected_version=1)
    with pytest.raises(Conflict):  # a stale reader (version 1) cannot overwrite version 2
        put(tenant, "c1", {"segments": [], "version": 2}, AnalysisSummary(qa_score=20), expected_version=1)
    assert deps.transcripts.get_analysis(tenant, "c1") == {"segments": [], "version": 2, "overrides": {"q": {}}}
    assert deps.history.get_entry(tenant, "c1").analysis.qa_score == 70  # the summary went with the winner only


def test_a_document_from_before_versions_counts_as_version_0(deps, tenant):
    deps.transcripts.put_analysis(tenant, "c2", {"segments": []}, AnalysisSummary(qa_score=1))  # unconditional, unversioned
    deps.transcripts.put_analysis(tenant, "c2", {"segments": [], "version": 1}, AnalysisSummary(qa_score=2), expected_version=0)
    assert deps.transcripts.get_analysis(tenant, "c2")["version"] == 1
