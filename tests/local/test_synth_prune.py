"""local.synth.prune_assets: a synth leaves only the assets its manifests name (the CDK never removes old ones)."""
from __future__ import annotations

import json

from local.synth import prune_assets


def _asset(cdk_out, name, *, directory=True):
    path = cdk_out / name
    if directory:
        (path / "python").mkdir(parents=True)
        (path / "python" / "module.py").write_text("x = 1\n")
    else:
        path.write_text("{}")
    return path


def test_the_assets_no_manifest_names_are_removed_and_the_rest_is_kept(tmp_path):
    kept_dir, kept_file = _asset(tmp_path, "asset.aaa"), _asset(tmp_path, "asset.bbb.json", directory=False)
    stale_dir, stale_file = _asset(tmp_path, "asset.old"), _asset(tmp_path, "asset.old.zip", directory=False)
    image = _asset(tmp_path, "asset.img")
    (tmp_path / "Ccaas.assets.json").write_text(json.dumps({
        "version": "36.0.0",
        "files": {"aaa": {"source": {"path": "asset.aaa", "packaging": "zip"}},
                  "bbb": {"source": {"path": "asset.bbb.json", "packaging": "file"}}},
        "dockerImages": {"img": {"source": {"directory": "asset.img"}}}}))
    template = tmp_path / "Ccaas.template.json"
    template.write_text("{}")

    assert prune_assets(tmp_path) == 2
    assert kept_dir.is_dir() and kept_file.is_file() and image.is_dir() and template.is_file()
    assert not stale_dir.exists() and not stale_file.exists()
    assert prune_assets(tmp_path) == 0


def test_without_a_manifest_nothing_is_removed(tmp_path):
    stale = _asset(tmp_path, "asset.ccc")
    assert prune_assets(tmp_path) == 0 and stale.is_dir()
