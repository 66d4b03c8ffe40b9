"""Command-line interface: ``woonvoorraad <command> --help``."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from woonvoorraad import __version__, layout, settings
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
        labels_path=args.labels, prognose_path=args.prognose, inkomen_path=args.inkomen,
        gemeenten=args.gemeente or None, config=cfg, analyse=not args.no_analyse,
        extra_parameters={"command": "build", "config_file": str(args.config or ""),
                          "overrides": args.overrides, "engine": args.engine},
        engine=args.engine, scheduler=args.scheduler, workers=args.workers,
    )
    _print_summary(result.out_dir, result.manifest)
    return 0


def _build_fetched(args: argparse.Namespace, cfg: dict) -> int:
    from woonvoorraad.pipeline import build
    from woonvoorraad.sources import fetch

    for name in args.gemeente:
        inputs = fetch.build_inputs_for(name, data_dir=args.data_dir, year=args.year)
        code = inputs.get("gemeentecode") or name
        out = Path(args.out) if args.out and len(args.gemeente) == 1 else (
            Path(args.out or layout.processed_dir(args.data_dir)) / str(code))
        result = build(
            bag_path=inputs["bag"], buurten_path=inputs["buurten"], out=out,
            cbs_paths=inputs.get("cbs") or [], labels_path=inputs.get("labels"),
            prognose_path=inputs.get("forecast"), inkomen_path=inputs.get("inkomen"),
            gemeenten=[code] if code else None,
            config=cfg, analyse=not args.no_analyse,
            extra_parameters={"command": "build", "gemeente": name, "overrides": args.overrides},
        )
        _print_summary(result.out_dir, result.manifest)
    return 0


def _print_summary(out_dir: Path, manifest: dict) -> None:
    s = manifest["summary"]
    tag = " [SYNTHETISCHE DEMODATA]" if manifest["synthetic"] else ""
    print(f"{out_dir}{tag}: {s['n_buurten']} buurten, "
          f"{s['n_woningen']} woningen, {s['n_naoorlogs']} naoorlogs, "
          f"doelgroep {s['n_doelgroep'] if s['n_doelgroep'] is not None else 'onbekend'}")
    if manifest["missing_statistics"]:
        print("  niet beschikbaar: " + ", ".join(manifest["missing_statistics"]))


def _cmd_demo(args: argparse.Namespace) -> int:
    from woonvoorraad.demo import build_demo

    out = build_demo(args.data_dir, scale=args.scale, regenerate=args.regenerate, rebuild=True,
                     out=args.out, config=_load_config(args),
                     extra_parameters={"overrides": args.overrides})
    _print_summary(out, json.loads((out / "manifest.json").read_text(encoding="utf-8")))
    if args.no_reports:
        return 0
    from woonvoorraad.report.render import render_reports

    rr = render_reports(out, out_dir=Path(args.reports or layout.reports_dir(layout.DEMO)),
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
    p.add_argument("--inkomen", type=Path, metavar="FILE",
                   help="CBS income by tenure (inkomen.parquet from 'woonvoorraad fetch'): "
                        "owners' over renters' income per gemeente for the target group")
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
                   "dask.distributed cluster, the same dwellings and counts but PBL default "
                   "labels where none is registered (no label model; needs the 'dask' extra)")
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="dask scheduler, e.g. tcp://host:8786 (default: a local cluster); "
                   "workers must see the input and output paths")
    g.add_argument("--workers", type=int, metavar="N",
                   help="workers of the local dask cluster (default: one per core)")
    _add_config(p)
    _add_common(p)
    p.set_defaults(func=_cmd_build)

    _add_fetch_command(sub)
    _add_report_command(sub)
    _add_scenario_command(sub)
    return parser


_FETCH_EPILOG = """\
examples:
  woonvoorraad fetch --gemeente Emmen
  woonvoorraad fetch --region regiodeal-zuid-oost-drenthe --year 2024
  woonvoorraad fetch --gemeente GM0114 --bag-file ~/Downloads/bag-light.gpkg
  woonvoorraad fetch --gemeente Emmen --offline        # from the cache only

EP-Online energy labels need an API key from RVO in the environment variable
EP_ONLINE_API_KEY; without it the build estimates labels and says so.
"""


def _add_fetch_command(sub: argparse._SubParsersAction) -> None:
    """The ``fetch`` subcommand."""
    from woonvoorraad.sources.fetch import DEFAULT_YEAR
    from woonvoorraad.sources.gemeenten import REGIONS
    from woonvoorraad.sources.odata import FIRST_TREND_YEAR

    p = sub.add_parser(
        "fetch",
        help="download BAG, CBS and EP-Online data for one or more gemeenten",
        description=("Download the open data of gemeenten into <data-dir>/raw/: BAG (PDOK), "
                     "CBS wijken en buurten and Kerncijfers (trends from "
                     f"{FIRST_TREND_YEAR}), the PBL/CBS forecast and EP-Online labels. "
                     "Everything is cached; a second fetch downloads nothing."),
        epilog=_FETCH_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gemeente", "-g", action="append", default=[], metavar="NAME|CODE",
                   help="gemeente name or code (Emmen, GM0114, 0114); repeatable")
    p.add_argument("--region", choices=sorted(REGIONS),
                   help="fetch every gemeente of this study area")
    p.add_argument("--year", type=int, default=None,
                   help=f"CBS wijken-en-buurten vintage (default {DEFAULT_YEAR})")
    p.add_argument("--bag-file", type=Path, default=None, metavar="GPKG",
                   help="read this national PDOK bag-light.gpkg instead of the BAG API")
    p.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                   help="root of raw/ (default: ./data or $WOONVOORRAAD_DATA_DIR)")
    p.add_argument("--offline", action="store_true",
                   help="use only the cache; fail naming any response that is missing")
    p.add_argument("--refresh", action="store_true",
                   help="download again even when cached")
    _add_common(p)
    p.set_defaults(func=_cmd_fetch)


def _cmd_fetch(args: argparse.Namespace, *, out: Any = None) -> int:
    """Run ``woonvoorraad fetch`` for parsed arguments; return the exit code."""
    from woonvoorraad.errors import (
        ConfigError,
        DownloadError,
        GemeenteNotFoundError,
        InputError,
        OfflineError,
    )
    from woonvoorraad.sources.fetch import fetch

    out = out if out is not None else sys.stdout
    if not args.gemeente and not args.region:
        print("woonvoorraad fetch: give --gemeente NAME|CODE (repeatable) or --region",
              file=sys.stderr)
        return 2
    try:
        result = fetch(args.gemeente, region=args.region, year=args.year,
                       bag_file=args.bag_file, offline=True if args.offline else None,
                       data_dir=args.data_dir, refresh=args.refresh)
    except GemeenteNotFoundError as exc:
        print(f"woonvoorraad fetch: {exc}", file=sys.stderr)
        return 2
    except (OfflineError, DownloadError, InputError, ConfigError) as exc:
        print(f"woonvoorraad fetch: {exc}", file=sys.stderr)
        return 1
    except WoonvoorraadError as exc:  # pragma: no cover - any other library error
        print(f"woonvoorraad fetch: {exc}", file=sys.stderr)
        return 1
    for g in result:
        state = ("already up to date" if g.skipped
                 else f"{g.requests} requests: {g.downloads} sent ({g.downloads - g.errors} "
                      f"downloaded, {g.errors} answered with an error), "
                      f"{g.requests - g.downloads} from the cache")
        print(f"{g.gemeente}: {state}", file=out)
        for name, value in g.inputs.items():
            if name == "gemeentecode":
                continue
            shown = ", ".join(str(v) for v in value) if isinstance(value, list) else value
            print(f"  {name:9s} {shown if shown else '-'}", file=out)
        for w in g.warnings:
            print(f"  warning: {w}", file=out)
        if g.incomplete:
            print(f"  incomplete: {', '.join(i['id'] for i in g.incomplete)} (the next fetch "
                  f"asks again for these; --refresh downloads everything again)", file=out)
    return 0


def _parse_param(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` of ``--param``: the value as JSON, else as text."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    return key.strip(), parsed


def _cmd_report(args: argparse.Namespace) -> int:
    from woonvoorraad.report.render import render_reports

    data = args.data or layout.processed_dir(None, layout.DEMO)
    if args.all and (args.gemeente or args.region):
        raise SystemExit("woonvoorraad report: --all cannot be combined with --gemeente or "
                         "--region")
    if not (args.all or args.gemeente or args.region):
        raise SystemExit("woonvoorraad report: choose --gemeente NAME|CODE, --region NAME or "
                         "--all")
    result = render_reports(
        data, gemeenten=args.gemeente or None, region=args.region, out_dir=args.out,
        workers=args.workers, timeout=args.timeout, retries=args.retries,
        kernel_name=args.kernel, template=args.template, parameters=dict(args.param),
        offline=not args.cdn, memory_limit_mb=args.memory_limit, runner=args.runner,
        achtergrond=args.achtergrond,
    )
    for st in result.reports:  # names and errors come from the data: no control characters
        mark = "ok " if st.status == "ok" else "FOUT"
        line = f"  {mark} {st.gemeentecode} {st.gemeentenaam} ({st.duration_seconds:.0f} s)"
        if st.status != "ok":
            line += f": {st.error}"
        print(printable(line))
    n_fail = len(result.failed)
    print(printable(f"{len(result.reports) - n_fail} of {len(result.reports)} report(s) ok; "
                    f"index: {result.index}"))
    return 1 if n_fail else 0


def _add_report_command(sub: argparse._SubParsersAction) -> None:
    """The ``report`` subcommand."""
    from woonvoorraad.report.template import KERNEL_NAME

    p = sub.add_parser(
        "report", help="render a Dutch HTML report and map per gemeente",
        description="Render one HTML report (without code) and one offline map per gemeente "
                    "from a build folder, each in its own process, plus index.html and "
                    "run.json. Exits with 1 if any report failed, 2 on bad input.")
    sel = p.add_argument_group("which gemeenten")
    sel.add_argument("--gemeente", action="append", default=[], metavar="NAME|CODE",
                     help="gemeente of the build (repeatable)")
    sel.add_argument("--region", metavar="NAME",
                     help="region preset, e.g. regiodeal-zuid-oost-drenthe")
    sel.add_argument("--all", action="store_true", help="every gemeente of the build")
    p.add_argument("--data", type=Path, metavar="DIR",
                   help="build folder (default: <data-dir>/processed/demo)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="report folder (default: reports/<region or build name>)")
    p.add_argument("--workers", type=int, default=2, metavar="N",
                   help="reports rendered in parallel (default 2)")
    p.add_argument("--timeout", type=float, default=900.0, metavar="SECONDS",
                   help="time limit per report and attempt (default 900)")
    p.add_argument("--retries", type=int, default=1, metavar="N",
                   help="extra attempts for a failed report (default 1)")
    p.add_argument("--kernel", metavar="NAME", help=f"Jupyter kernel (default {KERNEL_NAME})")
    p.add_argument("--template", type=Path, metavar="FILE", help="report template notebook")
    p.add_argument("-p", "--param", action="append", default=[], type=_parse_param,
                   metavar="KEY=VALUE",
                   help="template parameter (JSON value or text); unknown names are an error")
    p.add_argument("--memory-limit", type=float, default=None, metavar="MIB",
                   help="address-space limit per report worker and its kernel, in MiB; a "
                        "report over it fails alone (default: none)")
    p.add_argument("--cdn", action="store_true",
                   help="load Leaflet from a CDN instead of inlining it (smaller files, "
                        "needs internet)")
    p.add_argument("--achtergrond", metavar="geen|pdok|URL", default=None,
                   help="background of the maps: pdok (PDOK BRT-Achtergrondkaart grijs, "
                        "tiles loaded from the internet, switchable in the map) or an https:// "
                        "tile URL with {z}/{x}/{y}; default geen (no background, no request)")
    p.add_argument("--runner", choices=("warm", "proces"), default="warm",
                   help="warm: long-lived workers that keep a kernel, reset between "
                        "gemeenten (default); proces: a new process and kernel per report")
    _add_common(p)
    p.set_defaults(func=_cmd_report)


def _cmd_scenario(args: argparse.Namespace) -> int:
    from woonvoorraad.scenarios import load_scenario_config, run_scenarios, write_scenarios

    if args.buurten and args.kandidaten:
        raise SystemExit("woonvoorraad scenario: give --buurten or --kandidaten, not both")
    settings = load_scenario_config(args.config, overrides=args.overrides)
    result = run_scenarios(args.build, settings=settings, scenarios=args.scenario or None,
                           buurtcodes=args.buurten or None, kandidaten=args.kandidaten)
    out = write_scenarios(result, args.out)
    tag = " [SYNTHETISCHE DEMODATA]" if result.synthetic else ""
    print(printable(f"{out}{tag}: {result.buurten['buurtcode'].nunique()} buurten"))
    for _, r in result.samenvatting.iterrows():
        share = "onbekend" if r["aandeel_neutraal"] != r["aandeel_neutraal"] else (
            f"{r['aandeel_neutraal']:.0%} ({r['aandeel_neutraal_laag']:.0%}-"
            f"{r['aandeel_neutraal_hoog']:.0%})")
        print(printable(f"  {r['scenario']}: doelgroep kostenneutraal {share}, mediane netto "
                        f"maandlast {r['mediaan_netto_maandlast_doelgroep']:.0f} euro, gat "
                        f"{r['gat_euro'] / 1e6:.1f} mln euro"))
    for note in result.notes:
        print(printable(f"  let op: {note}"))
    return 0


_SCENARIO_EPILOG = """\
examples:
  woonvoorraad scenario --build data/processed/demo --out data/scenarios/demo
  woonvoorraad scenario --build DIR --out OUT --scenario naar_label_c --kandidaten
  woonvoorraad scenario --build DIR --out OUT --buurten BU01140101 BU01140102 \\
      --set prijzen.gasprijs=1.50 --set gemeente.bijdrage_aandeel=0.2 \\
      --set gemeente.bijdrage_max=5000

Prices, rates and subsidies (with sources) are in woonvoorraad/config/scenarios.toml.
"""


def _add_scenario_command(sub: argparse._SubParsersAction) -> None:
    """The ``scenario`` subcommand."""
    p = sub.add_parser(
        "scenario", help="what an upgrade costs, saves and asks of the owners, per buurt",
        description="Apply named packages (naar label B/C, isolatie E/F/G naar C, "
                    "levensloopbestendig) to the buurten of a build: investment, subsidies, "
                    "energy saved, loan payment and net monthly cost per income group, and "
                    "the share of target-group owners for whom it is cash-flow neutral. "
                    "Writes its own folder; the build folder is only read.",
        epilog=_SCENARIO_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", type=Path, required=True, metavar="DIR",
                   help="build folder (of 'woonvoorraad build' or 'demo')")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="output folder of the scenario run")
    p.add_argument("--scenario", action="append", default=[], metavar="NAME",
                   help="package to run (repeatable; default: all in the settings)")
    sel = p.add_mutually_exclusive_group()
    sel.add_argument("--buurten", nargs="+", metavar="BUURTCODE", help="only these buurten")
    sel.add_argument("--kandidaten", action="store_true",
                     help="only the buurten of the pilot candidates (proeftuinen.csv), "
                          "with a ranked table per candidate")
    g = p.add_argument_group("settings")
    g.add_argument("--config", type=Path, metavar="FILE",
                   help="TOML file overriding the scenario settings (config/scenarios.toml)")
    g.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one scenario setting, e.g. --set prijzen.gasprijs=1.5")
    _add_common(p)
    p.set_defaults(func=_cmd_scenario)


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
    code = 130
    try:
        code = main()
    except KeyboardInterrupt:
        code = 130
    finally:
        _ignore_sigint()
    sys.exit(code)


def _ignore_sigint() -> None:
    """Ignore Ctrl-C from now on. A Ctrl-C can land inside ``signal.signal`` itself, before
    the new handler is in place (a race a test found): then it is set again."""
    while True:
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            return
        except KeyboardInterrupt:
            continue


if __name__ == "__main__":  # pragma: no cover
    run()
