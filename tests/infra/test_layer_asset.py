"""The shared layer carries what Lambda code imports: `ccaas` and the third-party packages the runtime
lacks (layers/requirements.txt), built for the functions' runtime and CPU, from a cache keyed by the pins."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from infra import layer_build
from infra.naming import ROOT

ELF_MACHINE = {"arm64": 183, "x86_64": 62}  # e_machine: EM_AARCH64, EM_X86_64


def _layer_dir(synth) -> tuple[dict, Path]:
    (layer,) = synth.of_type("AWS::Lambda::LayerVersion").values()
    assets = json.loads((synth.outdir / f"{synth.stack.stack_name}.assets.json").read_text())["files"]
    key = layer["Properties"]["Content"]["S3Key"].split(".")[0]
    return layer["Properties"], synth.outdir / assets[key]["source"]["path"]


def _functions_target(synth) -> tuple[str, str]:
    """The one (runtime, architecture) every function of the stack runs on."""
    targets = {
        (f["Properties"]["Runtime"], tuple(f["Properties"].get("Architectures", ["x86_64"])))
        for f in synth.of_type("AWS::Lambda::Function").values()
        if "Layers" in f["Properties"]  # ours; CDK's own helper functions (if any) get no layers
    }
    assert len(targets) == 1, targets
    ((runtime, (architecture,)),) = targets
    return runtime, architecture


def test_layer_asset_holds_ccaas_and_re2_built_for_the_functions_platform(synth):
    props, staged = _layer_dir(synth)
    runtime, architecture = _functions_target(synth)
    assert (runtime, architecture) == ("python3.13", "arm64")
    assert props["CompatibleRuntimes"] == [runtime] and props["CompatibleArchitectures"] == [architecture]

    site = staged / "python"
    assert (site / "ccaas" / "__init__.py").is_file()
    assert (site / "ccaas" / "domain" / "analytics" / "patterns.py").is_file()
    assert (site / "re2" / "__init__.py").is_file()
    abi = "cpython-" + runtime.removeprefix("python").replace(".", "")  # cpython-313
    machine = {"arm64": "aarch64", "x86_64": "x86_64"}[architecture]
    (extension,) = (site / "re2").glob("_re2*.so")
    assert extension.name == f"_re2.{abi}-{machine}-linux-gnu.so"
    header = extension.read_bytes()[:20]
    assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == ELF_MACHINE[architecture]
    assert (site / "google_re2-1.1.20251105.dist-info" / "licenses" / "LICENSE").is_file()
    # Outbound calling hours need a number's time zones: phonenumbers with its zone data.
    assert (site / "phonenumbers" / "timezone.py").is_file()
    assert any((site / "phonenumbers" / "tzdata").glob("*.py"))
    # Tenant days and calling windows need the IANA zones whether or not the runtime's OS image has them:
    # zoneinfo falls back to the tzdata package.
    assert (site / "tzdata" / "zoneinfo" / "America" / "New_York").is_file()
    assert (site / "tzdata" / "zoneinfo" / "Asia" / "Kolkata").is_file()


def test_layer_asset_has_no_byte_code_tests_or_packages_the_runtime_provides(synth):
    _, staged = _layer_dir(synth)
    assert [p.name for p in staged.iterdir()] == ["python"]
    site = staged / "python"
    assert not list(staged.rglob("__pycache__")) and not list(staged.rglob("*.py[co]"))
    assert not [p for p in staged.rglob("*") if p.is_dir() and p.name in ("tests", "test")]
    top = {p.name for p in site.iterdir()}
    assert not top & {"boto3", "botocore", "pydantic", "pydantic_core", "aws_lambda_powertools", "aws_xray_sdk"}
    dists = {canonicalize_name(p.name.split("-")[0]) for p in site.glob("*.dist-info")}
    assert dists == {canonicalize_name(r.name) for r in layer_build.requirements()}


def test_layer_requirements_are_pinned_as_in_requirements_txt():
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s#;]+)", line.strip())
        if match:
            pins[canonicalize_name(match[1])] = match[2]
    layer = layer_build.requirements()
    assert layer, "layers/requirements.txt lists no package"
    for req in layer:
        (spec,) = req.specifier
        assert pins.get(canonicalize_name(req.name)) == spec.version, f"{req.name}: layer {spec.version}, requirements.txt {pins.get(canonicalize_name(req.name))}"


def test_layer_requirements_must_be_exact_pins_and_not_provided_packages(tmp_path):
    for bad in ("google-re2", "google-re2>=1.1", "google-re2==1.*", "pydantic==2.14.3", "boto3==1.44.5"):
        path = tmp_path / "requirements.txt"
        path.write_text(f"# comment\n{bad}\n")
        with pytest.raises(layer_build.LayerBuildError, match="requirements.txt:2"):
            layer_build.requirements(path)


def test_the_cache_key_follows_pins_runtime_and_architecture():
    reqs = layer_build.requirements()
    key = layer_build.cache_key(reqs, "python3.13", "arm64")
    assert key == layer_build.cache_key(list(reversed(reqs)), "python3.13", "arm64")
    assert key != layer_build.cache_key(reqs, "python3.12", "arm64")
    assert key != layer_build.cache_key(reqs, "python3.13", "x86_64")
    bumped = [type(r)(str(r).replace("1.1.20251105", "1.1.20250722")) for r in reqs]
    assert key != layer_build.cache_key(bumped, "python3.13", "arm64")
    tags = layer_build.platform_tags(layer_build.target("python3.13", "arm64"))
    assert tags[0] == "manylinux_2_34_aarch64" and tags[-1] == "manylinux2014_aarch64"  # AL2023's glibc and older
    assert "manylinux_2_28_aarch64" in tags  # where google-re2's wheels are
    assert layer_build.platform_tags(layer_build.target("python3.11", "x86_64"))[0] == "manylinux_2_26_x86_64"  # AL2
    with pytest.raises(layer_build.LayerBuildError):
        layer_build.target("python3.13", "sparc")


def test_a_built_layer_is_reused_without_pip(monkeypatch):
    built = layer_build.build("python3.13", "arm64")  # the synth fixture built it already (or this does)
    assert built.parent == ROOT / ".build" and built.name.startswith("layer-")

    def no_pip(*args, **kwargs):
        raise AssertionError(f"pip ran again: {args}")

    monkeypatch.setattr(subprocess, "run", no_pip)
    assert layer_build.build("python3.13", "arm64") == built


def test_a_failed_build_leaves_nothing_behind(tmp_path, monkeypatch):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("google-re2==1.1.20251105\n")

    def failing_pip(command, **kwargs):
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution found")

    monkeypatch.setattr(subprocess, "run", failing_pip)
    with pytest.raises(layer_build.LayerBuildError, match="No matching distribution"):
        layer_build.build("python3.13", "arm64", requirements_file=requirements, build_dir=tmp_path / "build")
    assert [p.name for p in (tmp_path / "build").iterdir() if not p.name.endswith(".lock")] == []


def _fake_pip(site_files: dict[str, str], seen: list[list[str]]):
    def run(command, **kwargs):
        seen.append(command)
        site = Path(command[command.index("--target") + 1])
        for name, text in site_files.items():
            (site / name).parent.mkdir(parents=True, exist_ok=True)
            (site / name).write_text(text)
        return subprocess.CompletedProcess(command, 0, "", "")

    return run


def test_pip_is_asked_for_wheels_of_the_lambda_platform_only(tmp_path, monkeypatch):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("google-re2==1.1.20251105\n")
    seen: list[list[str]] = []
    files = {
        "re2/__init__.py": "",
        "re2/__pycache__/x.cpython-313.pyc": "",
        "re2/tests/test_re2.py": "",
        "google_re2-1.1.20251105.dist-info/METADATA": "Name: google-re2\nRequires-Dist: six\n"
        'Requires-Dist: colorama; sys_platform == "win32"\nRequires-Dist: pytest; extra == "test"\n',
    }
    monkeypatch.setattr(subprocess, "run", _fake_pip(files, seen))
    built = layer_build.build("python3.13", "arm64", requirements_file=requirements, build_dir=tmp_path / "build")
    (command,) = seen
    assert command[command.index("--python-version") + 1] == "3.13"
    assert command[command.index("--implementation") + 1] == "cp"
    assert {"--only-binary=:all:", "--no-deps", "--no-compile"} <= set(command)
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert platforms == layer_build.platform_tags(layer_build.target("python3.13", "arm64"))
    assert all(p.endswith("_aarch64") for p in platforms)
    assert command[-1] == "google-re2==1.1.20251105"
    site = built / "python"
    assert (site / "re2" / "__init__.py").is_file()
    assert not (site / "re2" / "__pycache__").exists() and not (site / "re2" / "tests").exists()
    assert json.loads((built.parent / f"{built.name}.json").read_text())["architecture"] == "arm64"


def test_an_unlisted_dependency_of_a_layer_package_fails_the_build(tmp_path, monkeypatch):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("google-re2==1.1.20251105\n")
    files = {"google_re2-1.1.20251105.dist-info/METADATA": "Name: google-re2\nRequires-Dist: regex>=2020\n"}
    monkeypatch.setattr(subprocess, "run", _fake_pip(files, []))
    with pytest.raises(layer_build.LayerBuildError, match="needs regex"):
        layer_build.build("python3.13", "arm64", requirements_file=requirements, build_dir=tmp_path / "build")


def test_the_powertools_layer_brings_what_the_authorizer_verifies_tokens_with():
    """PyJWT and cryptography (RS256 for Cognito tokens) come with the AWS Powertools layer, built with
    `aws-lambda-powertools[all]`: the pinned Powertools' `all` extra must keep requiring them, and our
    layer must not carry a second copy (it would shadow or clash with the Powertools layer's)."""
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    in_all = {canonicalize_name(Requirement(r).name) for r in requires("aws-lambda-powertools") or []
              if Requirement(r).marker is not None and Requirement(r).marker.evaluate({"extra": "all"})}
    assert {"pyjwt", "cryptography"} <= in_all
    assert {"pyjwt", "cryptography", "cffi", "pycparser"} <= layer_build.PROVIDED
    assert not {canonicalize_name(r.name) for r in layer_build.requirements()} & layer_build.PROVIDED
