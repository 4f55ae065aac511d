"""Would touch the sentinel file if anything imported or ran it.

The tests replace @SENTINEL@ by an absolute path before analyzing.
"""
import os
import subprocess

from airflow import DAG

import shell_helper
from shell_helper import SENTINEL_NAME

SENTINEL = "@SENTINEL@"

os.system("touch " + SENTINEL + ".system")
subprocess.run(["touch", SENTINEL + ".subprocess"], check=False)
__import__("os").system("touch " + SENTINEL + ".dunder_import")
exec("import os; os.system('touch " + SENTINEL + ".exec')")
open(SENTINEL + ".open", "w").close()


def prepare():
    os.system("touch " + SENTINEL + ".function")
    return "faults_runs_shell"


with DAG(prepare(), schedule=None) as dag:
    shell_helper.touch(SENTINEL + ".helper_call")
