"""mesh-migrate: split an Airflow monolith into one Airflow instance per team."""

__version__ = "0.1.0"
