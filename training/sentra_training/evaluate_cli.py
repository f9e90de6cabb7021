"""`sentra evaluate`: a trained model against labelled incidents (the service's own history and
the NAB corpus), or `score`'s output files against NAB windows (`--scores`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from sentra_training import offline_cli
from sentra_training.offline_cli import Profile
from sentra_training.train_cli import check_service, err, fail

if TYPE_CHECKING:
    from sentra_training.model_eval import LabelledSet


def evaluate(
    service: Annotated[
        str | None, typer.Option(help="Evaluate sentra-SERVICE from the registry.")
    ] = None,
    version: Annotated[
        int | None, typer.Option(help="Its version (default: the alias).", min=1)
    ] = None,
    alias: Annotated[str | None, typer.Option(help="Its alias (default: production).")] = None,
    bundle: Annotated[
        Path | None, typer.Option(help="Or a model folder (`sentra train --out`).")
    ] = None,
    history: Annotated[
        list[Path] | None,
        typer.Option(help="A labelled history file of the service (repeat; CSV, JSONL, Parquet)."),
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(help="NAB windows JSON: each --history (or --scores) file to its windows."),
    ] = None,
    nab: Annotated[
        Path | None, typer.Option(help="NAB corpus folder (default: ../shared/datasets/nab).")
    ] = None,
    no_nab: Annotated[bool, typer.Option("--no-nab", help="Skip the NAB corpus.")] = False,
    record: Annotated[
        bool, typer.Option(help="Log the scores and plots into the version's training run.")
    ] = True,
    scores: Annotated[
        Path | None, typer.Option("--scores", help="Instead: a folder of `score` outputs.")
    ] = None,
    profile: Annotated[
        Profile | None, typer.Option(help="One NAB profile (default: all three).")
    ] = None,
    plots: Annotated[
        Path | None, typer.Option(help="Folder for the plots (a model's default: evaluation).")
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="--scores: folder of the input series, for the plots.")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the results as JSON.")
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Score a trained model on labelled incidents (NAB scores, windows found, false alarms),
    or with --scores the output files of `sentra score`."""
    model_given = service is not None or bundle is not None
    if scores is not None:
        if model_given or history:
            raise fail("--scores: evaluates score files; give it or a model, not both")
        if labels is None:
            raise fail("--labels: required with --scores")
        offline_cli.evaluate(
            scores=scores, labels=labels, profile=profile, plots=plots, data=data, json_out=json_out
        )
        return
    if not model_given:
        raise fail("give a model (--service with --version or --alias, or --bundle), or --scores")
    if bundle is not None and (service, version, alias) != (None, None, None):
        raise fail("--bundle: a model folder; --service/--version/--alias name a registry model")
    if version is not None and alias is not None:
        raise fail("--version and --alias: give one")
    if history and labels is None:
        raise fail("--labels: required with --history (the windows of its incidents)")
    if labels is not None and not history:
        raise fail("--history: required with --labels (the files the windows label)")
    _evaluate_model(
        service, version, alias, bundle, history or [], labels, None if no_nab else nab,
        not no_nab, record, profile, plots or Path("evaluation"), json_out, progress,
    )  # fmt: skip


def _evaluate_model(
    service: str | None,
    version: int | None,
    alias: str | None,
    bundle: Path | None,
    history: list[Path],
    labels: Path | None,
    nab: Path | None,
    use_nab: bool,
    record: bool,
    profile: Profile | None,
    plots: Path,
    json_out: Path | None,
    progress: bool,
) -> None:
    from sentra_ml.analysis.nab import PROFILES
    from sentra_ml.settings import get_settings
    from sentra_ml.store.model_bundle import BundleError, read_bundle
    from sentra_ml.store.model_registry import RegistryUnavailable
    from sentra_training.model_eval import default_nab_dir, labelled_history, nab_corpus
    from sentra_training.registry import fetch_model, resolve_version
    from sentra_training.run_records import (
        evaluate_sets,
        evaluation_tables,
        write_and_record,
    )
    from sentra_training.series import InputError

    uri = get_settings().resolved_mlflow_uri()
    run_id = None
    try:
        if bundle is not None:
            model, label = read_bundle(bundle), str(bundle)
        else:
            assert service is not None
            check_service(service)
            published, run_id = resolve_version(uri, service, version, alias)
            model = fetch_model(uri, published)
            label = f"sentra-{service} version {published.version}"
        sets: dict[str, LabelledSet] = {}
        if history and labels is not None:
            sets["history"] = labelled_history(history, labels)
        if use_nab:
            root = nab or default_nab_dir()
            if root is not None:
                sets["nab"] = nab_corpus(root)
            else:
                err.print("no NAB corpus found (--nab DIR or SENTRA_NAB_DIR): skipped")
        if not sets:
            raise fail("nothing to evaluate on: give --history with --labels, or --nab DIR")
        profiles = [str(profile)] if profile else list(PROFILES)
        results = evaluate_sets(model, sets, profiles, progress)
        for table in evaluation_tables(label, results, profiles):
            Console().print(table)
        report, written = write_and_record(
            uri, run_id if record else None, label, results, sets, plots
        )
    except (InputError, BundleError) as e:
        raise fail(str(e)) from None
    except LookupError as e:
        raise fail(str(e.args[0])) from None
    except RegistryUnavailable as e:
        raise fail(str(e), code=1) from None
    err.print(f"{len(written)} plot(s) -> {plots}", highlight=False)
    if json_out is not None:
        json_out.write_text(json.dumps(report, indent=2) + "\n")
    if run_id is not None and record:
        err.print(f"recorded in MLflow run {run_id}", highlight=False)
