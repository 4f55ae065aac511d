from airflow import DAG

with DAG("faults_syntax_error" as dag:
    pass
