"""Values that would take hours or gigabytes to compute: they stay unknown."""
from airflow import DAG

HUGE = 9 ** 9 ** 9
WIDE = ["a".zfill(10**9), "%0999999999d" % 1, "{:>999999999}".format(1), f"{1:>999999999}"]
BIG_LIST = [0] * 9999 * 9999

DAG("faults_bomb_" + "x" * 10**9)
