"""The Hive tables the Spark MLlib jobs write, partitioned by the run's business date.

Each is published the marts' way (write-audit-publish, gated), from the DDL and the final SELECT in
``sql/hive/analysis/`` over a temporary view the job registers (``${source_view}``).
"""

from __future__ import annotations

from marts.catalog import Mart, get_mart

BUYLIST_MART = get_mart("buylist").name
STATUS_HEALTH = "analysis_status_health"

RECOMMENDATIONS = Mart(10, "analysis_recommendations", "recommendations", "biz_date", (), (BUYLIST_MART,),
                       ("car_number", "rank"), folder="analysis")
HEALTH_IMPORTANCE = Mart(11, "analysis_health_feature_importance", "importance", "biz_date", (),
                         (STATUS_HEALTH,), ("feature",), folder="analysis")
CAR_CLUSTERS = Mart(12, "analysis_car_clusters", "clusters", "biz_date", (), (), ("car_number",),
                    folder="analysis")
CLUSTER_PROFILES = Mart(13, "analysis_cluster_profiles", "cluster-profiles", "biz_date", (), (),
                        ("cluster",), folder="analysis")
STYLE_FEATURES = Mart(15, "analysis_style_features", "style", "biz_date", (),
                      ("managed_smartcar_symptom_info",), ("car_number",), folder="analysis")
MODEL_METRICS = Mart(14, "analysis_model_metrics", "metrics", "biz_date", (), (), ("model", "metric"),
                     folder="analysis")

MODEL_TABLES: tuple[Mart, ...] = (RECOMMENDATIONS, HEALTH_IMPORTANCE, CAR_CLUSTERS, CLUSTER_PROFILES,
                                  STYLE_FEATURES, MODEL_METRICS)
# What the analysis DAG exports to PostgreSQL (issue 13): recommendations, clusters, metrics, and
# the style features the prediction service looks a car's day up in.
EXPORTED: tuple[Mart, ...] = (RECOMMENDATIONS, CAR_CLUSTERS, CLUSTER_PROFILES, STYLE_FEATURES, MODEL_METRICS)
# Which Spark jobs (analysis.training.JOBS) write each table: its export waits for them.
WRITTEN_BY: dict[str, tuple[str, ...]] = {
    RECOMMENDATIONS.name: ("recommend",),
    HEALTH_IMPORTANCE.name: ("classify",),
    CAR_CLUSTERS.name: ("cluster",),
    CLUSTER_PROFILES.name: ("cluster",),
    STYLE_FEATURES.name: ("style",),
    MODEL_METRICS.name: ("recommend", "classify", "cluster", "style"),
}
_BY_NAME = {t.name: t for t in MODEL_TABLES} | {t.alias: t for t in MODEL_TABLES}


def get_model_table(name: str) -> Mart:
    from pilot.errors import InvalidInput

    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(t.name for t in MODEL_TABLES)
        raise InvalidInput(f"unknown model table {name!r}; known: {known}") from None
