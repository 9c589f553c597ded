"""What a submission's kernel may use, and the markers that say it went past a limit.

The one definition of the grading limits: the grader, the sandbox, the CLI's defaults and help
texts and the benchmarks all read them from here. This module imports nothing heavy, so that
`nncourse --help` stays fast.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """What a submission's kernel may use and see."""
    cell_s: int = 30  # seconds one cell may run
    notebook_s: int = 600  # seconds for all of a notebook's cells (many slow cells, each < cell_s)
    memory_mb: int = 6000  # address space of a kernel; TensorFlow (lesson 05) needs a few GB of it
    hidden: tuple = ()  # folders the kernel must not see
    readable: tuple = ()  # folders inside hidden ones it may read


DEFAULT = Limits()

# The `ename` of the error output the grader gives a cell when its kernel went past a limit.
# Printed text never has an ename: a student can only produce one by raising it on purpose.
CELL_TIMEOUT = "CellTimeoutError"  # the cell ran longer than cell_s
NOTEBOOK_TIME_LIMIT = "NotebookTimeLimit"  # the notebook's cells ran longer than notebook_s
KERNEL_DIED = "KernelDied"  # os._exit, a crash, or memory

MAX_OUTPUT_LINES = 1000  # lines of printed output kept per cell
# Cell metadata key set by the grader on a cell whose printed output it cut: code running in the
# kernel cannot set cell metadata, so printing "truncated" cannot fake it.
OUTPUT_TRUNCATED = "nncourse_output_truncated"
