"""The roof: wires the stages together (pipeline stages of a run, the demo, the `pilot` command,
the Airflow REST client, DAG defaults). Only dags/, plugins/, bench/ and the console script import it."""
