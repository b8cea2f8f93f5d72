"""The Vertex AI (kfp v2) training pipeline: extract -> train -> evaluate -> gate -> register.

Every component is a thin wrapper around a function of :mod:`training_steps`.
Components install nothing (``packages_to_install=[]``, no kfp install): the
base image must already hold this package with its ``model`` extra, and kfp.
Locally, ``kfp.local`` runs them in the current environment
(``SubprocessRunner(use_venv=False)``), offline.

    python -m anomaly_detection_model.training_pipeline compile --out training_pipeline.yaml --image IMAGE
    python -m anomaly_detection_model.training_pipeline run-local --store-uri duckdb://features.duckdb ...
    python -m anomaly_detection_model.training_pipeline submit --template training_pipeline.yaml ...
"""

# No "from __future__ import annotations" here: kfp reads the component signatures' real types.

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Model, Output

PIPELINE_NAME = "workload-anomaly-training"
# In the cloud, an image built from this repository (pip install '.[model]' kfp); see the README.
DEFAULT_IMAGE = "python:3.11-slim"


def extract_component(
    store_uri: str,
    train_start: str,
    train_end: str,
    holdout_end: str,
    train_data: Output[Dataset],
    holdout_data: Output[Dataset],
) -> int:
    from anomaly_detection_model.training_steps import extract_features

    counts = extract_features(store_uri, train_start, train_end, holdout_end, train_data.path, holdout_data.path)
    return counts["train_rows"]


def train_component(
    train_data: Input[Dataset], n_estimators: int, threshold_quantile: float, model: Output[Model]
) -> str:
    from anomaly_detection_model.training_steps import train_model

    return train_model(train_data.path, model.path, n_estimators, threshold_quantile)


def current_model_component(registry_uri: str) -> str:
    from anomaly_detection_model.training_steps import current_model_uri

    return current_model_uri(registry_uri)


def evaluate_component(
    model: Input[Model], holdout_data: Input[Dataset], current_artifact_uri: str, evaluated_model: Output[Model]
) -> str:
    import shutil

    from anomaly_detection_model.training_steps import evaluate_model

    shutil.copytree(model.path, evaluated_model.path, dirs_exist_ok=True)
    return evaluate_model(evaluated_model.path, holdout_data.path, current_artifact_uri)


def gate_component(evaluation: str, min_gain: float, max_false_positive_rate: float) -> bool:
    from anomaly_detection_model.training_steps import gate_model

    decision = gate_model(evaluation, min_gain, max_false_positive_rate)
    print(f"gate: promote={decision['promote']}: {decision['reason']}")
    return bool(decision["promote"])


def register_component(model: Input[Model], promote: bool, model_root: str, registry_uri: str) -> str:
    # Takes the gate's decision as an input instead of sitting under dsl.If: kfp.local (2.16)
    # cannot evaluate compiled dsl.If conditions, and this way both runners share one graph.
    if not promote:
        print("register: gate said no; nothing uploaded or registered")
        return ""
    from anomaly_detection_model.training_steps import register_model

    return register_model(model.path, model_root, registry_uri)


def _component(func: Callable[..., Any], image: str) -> Any:
    return dsl.component(func=func, base_image=image, packages_to_install=[], install_kfp_package=False)


def make_pipeline(image: str = DEFAULT_IMAGE) -> Any:
    """The pipeline function, with every component on ``image``."""
    extract_op = _component(extract_component, image)
    train_op = _component(train_component, image)
    current_op = _component(current_model_component, image)
    evaluate_op = _component(evaluate_component, image)
    gate_op = _component(gate_component, image)
    register_op = _component(register_component, image)

    @dsl.pipeline(name=PIPELINE_NAME, description="Train, evaluate, gate and register the workload anomaly model.")
    def training_pipeline(
        store_uri: str,
        train_start: str,
        train_end: str,
        holdout_end: str,
        model_root: str,
        registry_uri: str,
        n_estimators: int = 200,
        threshold_quantile: float = 0.995,
        min_gain: float = 0.0,
        max_false_positive_rate: float = 0.02,
    ) -> None:
        extract = extract_op(
            store_uri=store_uri, train_start=train_start, train_end=train_end, holdout_end=holdout_end
        ).set_display_name("extract features")
        trained = train_op(
            train_data=extract.outputs["train_data"], n_estimators=n_estimators, threshold_quantile=threshold_quantile
        ).set_display_name("train")
        current = current_op(registry_uri=registry_uri).set_display_name("current model")
        evaluated = evaluate_op(
            model=trained.outputs["model"],
            holdout_data=extract.outputs["holdout_data"],
            current_artifact_uri=current.output,
        ).set_display_name("evaluate on held-back window")
        decision = gate_op(
            evaluation=evaluated.outputs["Output"], min_gain=min_gain, max_false_positive_rate=max_false_positive_rate
        ).set_display_name("gate")
        register_op(
            model=evaluated.outputs["evaluated_model"],
            promote=decision.output,
            model_root=model_root,
            registry_uri=registry_uri,
        ).set_display_name("upload and register")

    return training_pipeline


def compile_pipeline(path: Path, image: str = DEFAULT_IMAGE) -> Path:
    compiler.Compiler().compile(pipeline_func=make_pipeline(image), package_path=str(path))
    return path


def _import_kfp_local() -> Any:
    """Import ``kfp.local`` with any ``docker/`` folder on sys.path hidden.

    kfp.local imports the optional ``docker`` package and tolerates only an
    ImportError; a plain folder named ``docker`` (this repository keeps its
    Dockerfiles in one) on sys.path would be imported as a namespace package instead
    and break it.
    """
    import importlib
    import sys

    def shadows(entry: str) -> bool:
        folder = Path(entry or ".") / "docker"
        return folder.is_dir() and not (folder / "__init__.py").exists()

    stale = sys.modules.get("docker")
    if stale is not None and getattr(stale, "__file__", None) is None:
        del sys.modules["docker"]
    saved = list(sys.path)
    try:
        sys.path[:] = [entry for entry in saved if not shadows(entry)]
        # the dispatcher is where the docker import happens (on first local execution)
        importlib.import_module("kfp.local.task_dispatcher")
        importlib.import_module("kfp.local.pipeline_orchestrator")
        return importlib.import_module("kfp.local")
    finally:
        sys.path[:] = saved


def run_local(parameters: dict[str, Any], pipeline_root: Path) -> Any:
    """Run the whole pipeline with kfp.local in this environment (no venv, no installs, offline)."""
    local = _import_kfp_local()
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(pipeline_root))
    return make_pipeline()(**parameters)


def pipeline_job(
    template_path: str,
    project: str,
    location: str,
    pipeline_root: str,
    parameters: dict[str, Any],
    init_options: dict[str, Any] | None = None,
) -> Any:
    """An ``aiplatform.PipelineJob`` for the compiled pipeline (validates the parameters against it).

    ``init_options``: extra ``aiplatform.init()`` arguments (API endpoint, transport, credentials).
    """
    from google.cloud import aiplatform  # lazy: about 5 s to import

    aiplatform.init(project=project, location=location, **(init_options or {}))
    return aiplatform.PipelineJob(
        display_name=PIPELINE_NAME,
        template_path=template_path,
        pipeline_root=pipeline_root,
        parameter_values=parameters,
        enable_caching=False,
    )


def submit(
    template_path: str,
    project: str,
    location: str,
    pipeline_root: str,
    parameters: dict[str, Any],
    service_account: str = "",
) -> str:
    """Submit the compiled pipeline to Vertex AI Pipelines; returns the job's resource name.

    ``submit`` also checks (or creates) the ``pipeline_root`` bucket, so the submitter needs
    storage access to it.
    """
    job = pipeline_job(template_path, project, location, pipeline_root, parameters)
    job.submit(service_account=service_account or None)
    return str(job.resource_name)


def _parameters(args: argparse.Namespace) -> dict[str, Any]:
    from anomaly_detection_model.training_steps import resolve_time

    try:
        start, split, end = (resolve_time(t) for t in (args.train_start, args.train_end, args.holdout_end))
    except ValueError as exc:
        raise ValueError(f"--train-start/--train-end/--holdout-end: {exc}") from exc
    if not start < split < end:
        raise ValueError("need --train-start < --train-end < --holdout-end")
    return {
        "store_uri": args.store_uri,
        "train_start": args.train_start,
        "train_end": args.train_end,
        "holdout_end": args.holdout_end,
        "model_root": args.model_root,
        "registry_uri": args.registry_uri,
        "n_estimators": args.n_estimators,
        "threshold_quantile": args.threshold_quantile,
        "min_gain": args.min_gain,
        "max_false_positive_rate": args.max_false_positive_rate,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    compile_cmd = commands.add_parser("compile", help="compile the pipeline to YAML")
    compile_cmd.add_argument("--out", type=Path, required=True)
    compile_cmd.add_argument("--image", default=DEFAULT_IMAGE, help="base image holding this package and kfp")
    for name in ("run-local", "submit"):
        cmd = commands.add_parser(name, help=f"{name} the pipeline")
        cmd.add_argument("--store-uri", required=True, help="duckdb://PATH or bq://PROJECT.DATASET.TABLE")
        cmd.add_argument("--train-start", required=True, help="RFC 3339")
        cmd.add_argument("--train-end", required=True, help="RFC 3339; held-back window starts here")
        cmd.add_argument("--holdout-end", required=True, help="RFC 3339")
        cmd.add_argument("--model-root", required=True, help="local dir or gs://bucket/prefix for artifacts")
        cmd.add_argument("--registry-uri", required=True, help="local:PATH.json or vertex://PROJECT/LOCATION/NAME")
        cmd.add_argument("--n-estimators", type=int, default=200)
        cmd.add_argument("--threshold-quantile", type=float, default=0.995)
        cmd.add_argument("--min-gain", type=float, default=0.0, help="average precision the candidate must gain")
        cmd.add_argument("--max-false-positive-rate", type=float, default=0.02, help="gate ceiling")
        if name == "run-local":
            cmd.add_argument("--pipeline-root", type=Path, default=Path("local_outputs"))
        else:
            cmd.add_argument("--template", required=True, help="compiled pipeline YAML (local path or gs://)")
            cmd.add_argument("--project", required=True)
            cmd.add_argument("--location", required=True)
            cmd.add_argument("--pipeline-root", required=True, help="gs://bucket/prefix")
            cmd.add_argument("--service-account", default="")
    args = parser.parse_args(argv)
    if args.command != "compile":
        try:
            parameters = _parameters(args)
        except ValueError as exc:
            parser.error(str(exc))
    if args.command == "compile":
        print(compile_pipeline(args.out, args.image))
    elif args.command == "run-local":
        run_local(parameters, args.pipeline_root)
        print(json.dumps({"registry": args.registry_uri}))
    else:
        print(submit(args.template, args.project, args.location, args.pipeline_root, parameters, args.service_account))
    return 0


if __name__ == "__main__":
    sys.exit(main())
