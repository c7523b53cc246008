"""The two layers every function gets: our shared `ccaas` package and the AWS-published Powertools.

The shared layer holds python/ccaas/ (from layers/ccaas/) and the third-party packages our code
imports that the runtime does not provide (layers/requirements.txt: google-re2). Those are wheels for
the functions' runtime and architecture, built once by infra/layer_build.py into .build/layer-<key>/
and reused by every synth. A local bundler (a jsii-implemented ILocalBundling) assembles the layer at
synth time and always succeeds, so Docker is never needed; the Docker image in BundlingOptions is a
required placeholder that is never pulled.

boto3 comes with the Lambda runtime; Powertools, pydantic and aws-xray-sdk with the Powertools layer
(AWS builds it with every extra), which is why neither is bundled here.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra import layer_build
from infra.naming import LAYERS_DIR

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
POWERTOOLS_VERSION = "3.37.0"
# Public parameter published by Powertools in every commercial region:
#   /aws/service/powertools/python/<arch>/<python version>/<semver>  ->  layer version ARN
POWERTOOLS_LAYER_PARAMETER = f"/aws/service/powertools/python/arm64/python3.13/{POWERTOOLS_VERSION}"
SHARED_PACKAGE = "ccaas"
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".pytest_cache", "*.egg-info")


@jsii.implements(ILocalBundling)
class CopyPackage:
    """Copies <src> to <output>/<dest> (skipping caches), after the contents of `base` (a prebuilt tree
    such as the cached third-party packages) if given. Always succeeds, so Docker is never used."""

    def __init__(self, src: Path, dest: str, base: Path | None = None) -> None:
        self._src = Path(src)
        self._dest = dest
        self._base = Path(base) if base is not None else None

    # jsii calls tryBundle(outputDir, options) positionally; accept either spelling of the options.
    def try_bundle(self, output_dir: str, options: Any = None, /, **_: Any) -> bool:
        if not (self._src / "__init__.py").is_file():
            raise FileNotFoundError(f"{self._src} is not a Python package (no __init__.py)")
        if self._base is not None:
            shutil.copytree(self._base, output_dir, ignore=_SKIP, dirs_exist_ok=True)
        target = Path(output_dir) / self._dest
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(self._src, target, ignore=_SKIP)
        return True


class Layers(Construct):
    """`self.all` is what the function factory attaches: [shared package, Powertools]."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        # .build/layer-<key>/python/<packages>: built on the first synth after a pin changes, then reused
        third_party = layer_build.build(RUNTIME.name, ARCHITECTURE.name)
        packages = ", ".join(r.name for r in layer_build.requirements())
        self.shared = lambda_.LayerVersion(
            self,
            "Shared",
            description=f"{SHARED_PACKAGE} (layers/{SHARED_PACKAGE}): domain, ports, adapters, bootstrap; {packages}",
            code=lambda_.Code.from_asset(
                str(LAYERS_DIR),
                bundling=BundlingOptions(
                    image=DockerImage.from_registry("unused"),
                    local=CopyPackage(LAYERS_DIR / SHARED_PACKAGE, f"python/{SHARED_PACKAGE}", base=third_party),
                ),
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            # default removal (DESTROY): a layer version is code, rebuilt from the repo on every deploy
        )

        powertools_arn = ssm.StringParameter.value_for_string_parameter(self, POWERTOOLS_LAYER_PARAMETER)
        self.powertools = lambda_.LayerVersion.from_layer_version_arn(self, "Powertools", powertools_arn)

        self.all: list[lambda_.ILayerVersion] = [self.shared, self.powertools]
