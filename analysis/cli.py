"""``pilot analysis explore|sql|train``: the analysis tables and models of a business date."""

from __future__ import annotations

import argparse
from typing import Any

from analysis.exploration import DEFAULT_MIN_SPEED, EXPLORATIONS
from pilot.dates import Day
from pilot.errors import InvalidInput

DESCRIPTION = """\
Exploration of a business date's drive mart with the Hive SQL in sql/hive/analysis/: each table is
partitioned by biz_date, written-audited-published like a mart and gated. Build the marts first.

tables (name or alias):
""" + "\n".join(f"  {t.name:<36} {t.alias}" for t in EXPLORATIONS) + """

Spark MLlib jobs (`train`, each a spark-submit application on the shared Hive metastore):
  recommend  ALS top-3 items per adult car not bought that month  -> analysis_recommendations
  classify   random forest on the status-health label             -> analysis_health_feature_importance
  cluster    k-means on the adult profile, k by silhouette        -> analysis_car_clusters, _cluster_profiles
  style      multilayer perceptron: driving style of a car's day  -> analysis_style_features + model on HDFS
             (learns from the simulator's ground truth: --truth)
  every job adds its rows to analysis_model_metrics (model, metric, value) of the date.

examples:
  pilot analysis explore --date 20200322
  pilot analysis explore --date 20200322 --table area-speed --min-speed 50
  pilot analysis sql --date 20200322 --table fastest      # the bound SQL, e.g. for beeline
  pilot analysis train --date 20200322 --job recommend \
      --truth var/runs/20200322-c100-s42/sim/ground_truth_20200322.json   # precision@3 vs the taste
  (then query them with `pilot sql`, beeline or PyHive, as the marts)
"""


def _day(text: str) -> Day:
    try:
        return Day.parse(text)
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _explore(args: argparse.Namespace) -> int:
    from analysis.exploration import build_explorations

    build_explorations(args.date, args.table, min_speed=args.min_speed)
    return 0


def _train(args: argparse.Namespace) -> int:
    import json

    from analysis.training import JOBS, run_jobs

    jobs = list(args.job or JOBS)
    if "style" in jobs and args.truth is None:
        print("style: skipped; it learns from the simulator's ground truth (give --truth)")
        jobs.remove("style")
    if jobs:  # one Spark application for all of them: starting Spark is most of a small job's time
        for result in run_jobs(jobs, args.date, truth=args.truth).values():
            print(json.dumps(result, indent=1, ensure_ascii=False, default=str))
    return 0


def _sql(args: argparse.Namespace) -> int:
    from analysis.exploration import exploration_params, select_tables
    from marts.config import MartConfig
    from marts.runner import audit_params
    from marts.sqlfile import statements
    from pilot.settings import get_settings

    settings = get_settings()
    params = exploration_params(MartConfig.from_settings(settings), args.date, settings, args.min_speed)
    for table in select_tables(args.table):
        bound = statements(table.build_file, audit_params(table, params, build_id="preview"))
        print(f"-- {table.name} for {args.date}\n" + "\n\n".join(f"{s};" for s in bound) + "\n")
    return 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("analysis", help="exploration tables (Hive SQL) and models (Spark MLlib)",
                                   description=DESCRIPTION,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="analysis_command", required=True, metavar="ACTION")
    for name, func, text in (("explore", _explore, "build the exploration tables of a date and gate them"),
                             ("sql", _sql, "print the bound SQL of the exploration tables")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--date", required=True, type=_day, help="business date yyyyMMdd")
        p.add_argument("--table", action="append", metavar="NAME",
                       help="only this table (name or alias); repeatable (default: all three)")
        p.add_argument("--min-speed", type=float, default=DEFAULT_MIN_SPEED,
                       help=f"areas kept by the average-speed table (default {DEFAULT_MIN_SPEED:g} km/h)")
        p.set_defaults(func=func)
    from pathlib import Path

    from analysis.training import JOBS

    p = sub.add_parser("train", help="train the Spark MLlib models of a date and publish their tables")
    p.add_argument("--date", required=True, type=_day, help="business date yyyyMMdd")
    p.add_argument("--job", action="append", choices=JOBS, help="only this job; repeatable (default: all)")
    p.add_argument("--truth", type=Path, help="the simulator's ground_truth_<date>.json: measure precision@3")
    p.set_defaults(func=_train)
    return parser
