"""Sweeps over configurations: specs, resumable runs, results tables (issue #6, in progress)."""

from .run import collect, run_one, run_sweep, task_config, write_table
from .spec import SweepSpec, run_key

__all__ = ["SweepSpec", "collect", "run_key", "run_one", "run_sweep", "task_config", "write_table"]
