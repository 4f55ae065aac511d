from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("faults_tabs") as dag:
	for name in ["a", "b"]:
		BashOperator(task_id=f"echo_{name}", bash_command="echo")
