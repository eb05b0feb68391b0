"""Airflow hooks, operators and sensors of smartcar-pilot (thin: they call the project libraries).

Airflow puts the plugins folder on sys.path, so DAG files import `smartcar_plugins.*`.
"""
