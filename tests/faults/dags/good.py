"""A well-formed DAG: every fault sits next to it, and it must still be found."""
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("faults_good", schedule="@daily", start_date=datetime(2024, 1, 1)) as dag:
    BashOperator(task_id="hello", bash_command="echo hello")
