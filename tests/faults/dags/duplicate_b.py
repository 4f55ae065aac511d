"""The same dag id as duplicate_a.py: Airflow keeps only one of them."""
from airflow import DAG

with DAG("faults_duplicate") as dag:
    pass
