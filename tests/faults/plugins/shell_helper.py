"""A helper module that runs a shell command when it is imported."""
import os

SENTINEL_NAME = "@SENTINEL@"

os.system("touch " + SENTINEL_NAME + ".helper_import")


def touch(path):
    os.system("touch " + path)
