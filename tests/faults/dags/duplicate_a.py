from airflow import DAG

dag = DAG("faults_duplicate")
