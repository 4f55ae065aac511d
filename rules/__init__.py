"""The shipped rule pack: YAML files read by mesh_migrate.rulepack (package data only)."""
