"""Command-line interface: ``woonvoorraad <command> --help``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from woonvoorraad import __version__, settings
from woonvoorraad._log import configure_logging
from woonvoorraad._text import printable
from woonvoorraad.errors import WoonvoorraadError

logger = logging.getLogger(__name__)


def _add_common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("output and logging")
    g.add_argument("-v", "--verbose", action="count", default=0,
                   help="more log output (-vv: debug)")
    g.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only, no bars")


def _add_config(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("configuration")
    g.add_argument("--config", type=Path, metavar="FILE",
                   help="TOML file overriding defaults (see config/defaults.toml)")
    g.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one setting, e.g. --set periods.naoorlogs_end=1970 (repeatable)")


def _load_config(args: argparse.Namespace) -> dict:
    from woonvoorraad.config import load_config

    return load_config(args.config, overrides=args.overrides)


def _cmd_build(args: argparse.Namespace) -> int:
    from woonvoorraad.pipeline import build

    cfg = _load_config(args)
    if args.gemeente and not args.bag:
        return _build_fetched(args, cfg)
    if not args.bag or not args.buurten or not args.out:
        raise SystemExit("woonvoorraad build: give --bag, --buurten and --out "
                         "(or --gemeente for data fetched with 'woonvoorraad fetch')")
    result = build(
        bag_path=args.bag, buurten_path=args.buurten, out=args.out, cbs_paths=args.cbs,
        labels_path=args.labels, prognose_path=args.prognose, gemeenten=args.gemeente or None,
        config=cfg, analyse=not args.no_analyse,
        extra_parameters={"command": "build", "config_file": str(args.config or ""),
                          "overrides": args.overrides, "engine": args.engine},
        engine=args.engine, scheduler=args.scheduler, workers=args.workers,
    )
    _print_summary(result)
    return 0


def _build_fetched(args: argparse.Namespace, cfg: dict) -> int:
    from woonvoorraad.pipeline import build
    from woonvoorraad.sources import fetch

    for name in args.gemeente:
        inputs = fetch.build_inputs_for(name, data_dir=args.data_dir, year=args.year)
        code = inputs.get("gemeentecode") or name
        out = Path(args.out) if args.out and len(args.gemeente) == 1 else (
            Path(args.out or Path(args.data_dir or settings.data_dir) / "processed") / str(code))
        result = build(
            bag_path=inputs["bag"], buurten_path=inputs["buurten"], out=out,
            cbs_paths=inputs.get("cbs") or [], labels_path=inputs.get("labels"),
            prognose_path=inputs.get("forecast"), gemeenten=[code] if code else None,
            config=cfg, analyse=not args.no_analyse,
            extra_parameters={"command": "build", "gemeente": name, "overrides": args.overrides},
        )
        _print_summary(result)
    return 0


def _print_summary(result: object) -> None:
    manifest = result.manifest  # type: ignore[attr-defined]
    s = manifest["summary"]
    tag = " [SYNTHETISCHE DEMODATA]" if manifest["synthetic"] else ""
    print(f"{result.out_dir}{tag}: {s['n_buurten']} buurten, "  # type: ignore[attr-defined]
          f"{s['n_woningen']} woningen, {s['n_naoorlogs']} naoorlogs, "
          f"doelgroep {s['n_doelgroep'] if s['n_doelgroep'] is not None else 'onbekend'}")
    if manifest["missing_statistics"]:
        print("  niet beschikbaar: " + ", ".join(manifest["missing_statistics"]))


def _cmd_demo(args: argparse.Namespace) -> int:
    from woonvoorraad.demo import region as datasets
    from woonvoorraad.pipeline import build

    raw = Path(args.data_dir or settings.data_dir) / "raw" / "demo"
    if args.scale != 1.0:
        raw = raw.with_name(f"demo-scale{args.scale:g}")
    paths = datasets.make_demo(raw, scale=args.scale, overwrite=args.regenerate)
    out = Path(args.out or Path(args.data_dir or settings.data_dir) / "processed" / "demo")
    result = build(
        bag_path=paths["bag"], buurten_path=paths["buurten"], out=out,
        cbs_paths=[paths["cbs_2021"], paths["cbs_2022"]], labels_path=paths["labels"],
        config=_load_config(args), synthetic=True,
        extra_parameters={"command": "demo", "overrides": args.overrides},
    )
    _print_summary(result)
    if args.no_reports:
        return 0
    from woonvoorraad.report.reports import render_reports

    rr = render_reports(out, out_dir=Path(args.reports or Path("reports") / "demo"),
                        workers=args.workers)
    print(f"rapporten: {len(rr.reports) - len(rr.failed)} van {len(rr.reports)} gereed; "
          f"index: {rr.index}")
    return 0 if rr.ok else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``woonvoorraad`` command."""
    parser = argparse.ArgumentParser(
        prog="woonvoorraad",
        description="Cheap, owner-occupied, post-war homes per CBS buurt: BAG + CBS + EP-Online.",
    )
    parser.add_argument("--version", action="version", version=f"woonvoorraad {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("demo", help="generate the synthetic demo region (if missing) and build it",
                       description="Generate the built-in SYNTHETIC demo region in the real file "
                       "layouts (data/raw/demo) and build it (data/processed/demo).")
    p.add_argument("--data-dir", type=Path, help=f"data folder (default {settings.data_dir})")
    p.add_argument("--out", type=Path, help="output folder (default <data-dir>/processed/demo)")
    p.add_argument("--regenerate", action="store_true", help="regenerate the demo inputs")
    p.add_argument("--scale", type=float, default=1.0,
                   help="size of the demo region, 0 < scale <= 1 (default 1: about 60,000 "
                   "dwellings); smaller is faster")
    p.add_argument("--reports", type=Path, metavar="DIR",
                   help="where the reports and maps go (default reports/demo)")
    p.add_argument("--workers", type=int, default=2, help="parallel report renderers (default 2)")
    p.add_argument("--no-reports", action="store_true", help="build only; render no reports")
    _add_config(p)
    _add_common(p)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("build", help="build dwellings and buurt indicators from input files",
                       description="Build dwellings.parquet, buurten.parquet and manifest.json "
                       "from a BAG GeoPackage, a CBS wijk- en buurtkaart and optional "
                       "CBS statistics of other years and EP-Online labels.")
    p.add_argument("--bag", type=Path, metavar="FILE",
                   help="BAG GeoPackage (PDOK bag-light, lvbag or OGC layout)")
    p.add_argument("--buurten", type=Path, metavar="FILE",
                   help="CBS wijk- en buurtkaart GeoPackage")
    p.add_argument("--cbs", type=Path, action="append", default=[], metavar="FILE",
                   help="CBS statistics of another year (GeoPackage or kerncijfers table); "
                   "repeatable, for trends")
    p.add_argument("--labels", type=Path, metavar="FILE", help="EP-Online bulk CSV or ZIP")
    p.add_argument("--prognose", type=Path, metavar="FILE", help="gemeente forecast table")
    p.add_argument("--out", type=Path, metavar="DIR", help="output folder")
    p.add_argument("--gemeente", action="append", default=[], metavar="NAME|CODE",
                   help="limit to this gemeente; without --bag: use data fetched with "
                   "'woonvoorraad fetch' (repeatable)")
    p.add_argument("--data-dir", type=Path, help="data folder of fetched inputs")
    p.add_argument("--year", type=int, help="CBS year of fetched inputs")
    p.add_argument("--no-analyse", action="store_true", help="skip the classification step")
    g = p.add_argument_group("engine")
    g.add_argument("--engine", choices=("memory", "dask"), default="memory",
                   help="memory: one process (default); dask: partitioned over a "
                   "dask.distributed cluster, same results (needs the 'dask' extra)")
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="dask scheduler, e.g. tcp://host:8786 (default: a local cluster); "
                   "workers must see the input and output paths")
    g.add_argument("--workers", type=int, metavar="N",
                   help="workers of the local dask cluster (default: one per core)")
    _add_config(p)
    _add_common(p)
    p.set_defaults(func=_cmd_build)

    _register_optional(sub)
    return parser


def _register_optional(sub: argparse._SubParsersAction) -> None:
    """Subcommands contributed by other modules."""
    import importlib
    import importlib.util

    for name in ("sources.fetch", "report.reports"):
        if importlib.util.find_spec(f"woonvoorraad.{name}") is not None:
            importlib.import_module(f"woonvoorraad.{name}").register_cli(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``woonvoorraad`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(-1 if getattr(args, "quiet", False) else getattr(args, "verbose", 0))
    try:
        return int(args.func(args) or 0)
    except WoonvoorraadError as exc:
        logger.debug("error details", exc_info=True)
        print(f"woonvoorraad: error: {printable(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:  # not turned into an InputError or OutputError: still no traceback
        logger.debug("error details", exc_info=True)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"woonvoorraad: error: {printable(where)}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("woonvoorraad: interrupted; the output folder holds either the previous or the "
              "complete new outputs (see its manifest.json and run.json)", file=sys.stderr)
        return 130


def run() -> NoReturn:
    """The console entry point: :func:`main`, then exit with its code.

    A Ctrl-C that lands after :func:`main` has finished (while the interpreter shuts down) is
    ignored: the work is done and its outputs are complete, so it must not turn a finished
    run into a KeyboardInterrupt traceback.
    """
    try:
        code = main()
    except KeyboardInterrupt:
        code = 130
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
