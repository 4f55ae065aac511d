from airflow import DAG

print "Airflow 1 on Python 2"
dag = DAG("faults_python2")
