"""Sweeps over configurations: specs, resumable runs, results tables and reports (issue #6)."""

from .report import build_report
from .run import collect, run_one, run_sweep, task_config, write_table
from .spec import SweepSpec, run_key

__all__ = ["SweepSpec", "build_report", "collect", "run_key", "run_one", "run_sweep", "task_config", "write_table"]
