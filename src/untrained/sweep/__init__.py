"""Sweeps over configurations: specs, resumable runs, results tables and reports (issue #6)."""

from .report import build_report
from .run import run_one, run_sweep, task_config
from .spec import SweepSpec, run_key
from .table import collect, write_table

__all__ = ["SweepSpec", "build_report", "collect", "run_key", "run_one", "run_sweep", "task_config",
           "write_table"]
