from airflow import DAG
from airflow.sensors.external_task import ExternalTaskSensor

with DAG("faults_waits_on_nothing") as dag:
    ExternalTaskSensor(task_id="wait_ghost", external_dag_id="faults_no_such_dag")
