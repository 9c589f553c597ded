"""Where a student's code runs during grading: a kernel that is sandboxed and can be revived.

`SandboxedKernelManager` starts the IPython kernel
- inside bubblewrap (when `bwrap` is installed): no network (its own network namespace), its
  own process namespace, and a file system where the course repository, the gradebook, the
  grading folders and every other submission are hidden behind empty tmpfs mounts; only the
  notebook's own folder is writable, and the Python installation and the `nnlib`/`nncourse`
  packages are visible read-only;
- with a memory limit (`prlimit --as`), so that a memory hog gets a MemoryError;
- over Jupyter's IPC transport (Unix sockets in a folder shared with the sandbox), because
  a kernel in its own network namespace cannot be reached over TCP loopback.
Without bubblewrap the kernel still gets the memory limit, but it can read what the grader
can read: `nncourse grade` says so when it starts.

`Resilient`, mixed into the autograder's executor (an nbclient NotebookClient), makes it
resilient:
- a cell which kills the kernel (os._exit, a segfault) gets an error output saying so; the
  kernel is restarted, the cells before it are run again, and grading goes on, so the student
  keeps the points of every cell that does not depend on the one that crashed;
- a notebook has a time budget for all its cells (many slow cells, each under the per-cell
  timeout, cannot hold a grading worker for hours): once spent, the remaining cells are not
  run and get an error output saying so; the points earned before are kept.
"""

import copy
import os
import shutil
import sys
import tempfile
import time

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import DeadKernelError
from nbformat.notebooknode import NotebookNode
from traitlets import Integer, List, Unicode
from traitlets.config import LoggingConfigurable

from nncourse.grading.limits import DEFAULT, KERNEL_DIED, NOTEBOOK_TIME_LIMIT


def bubblewrap():
    """The path of `bwrap`, or None when the sandbox is not available."""
    return shutil.which("bwrap")


class SandboxedKernelManager(AsyncKernelManager):
    """An IPython kernel behind bubblewrap and a memory limit, over IPC sockets."""

    hidden = List(Unicode(), help="folders to hide from the kernel").tag(config=True)
    readable = List(Unicode(), help="folders inside hidden ones to show read-only").tag(
        config=True)
    memory_limit_mb = Integer(DEFAULT.memory_mb, help="address-space limit of the kernel, in MB"
                              ).tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Sockets and connection file live in a private folder that the sandbox shares.
        self._runtime = tempfile.mkdtemp(prefix="nncourse-kernel-")
        self.transport = "ipc"
        self.ip = os.path.join(self._runtime, "kernel")
        self.connection_file = os.path.join(self._runtime, "connection.json")

    def format_kernel_cmd(self, extra_arguments=None):
        # Interrupt (on a cell timeout) by a message that the kernel turns into a SIGINT to
        # itself: a SIGINT to the process group would also stop bwrap, and with it the kernel.
        self.kernel_spec.interrupt_mode = "message"
        command = super().format_kernel_cmd(extra_arguments)
        limit = ["prlimit", f"--as={self.memory_limit_mb * 2**20}", "--"]
        bwrap = bubblewrap()
        if bwrap is None:
            return limit + command
        cwd = os.getcwd()
        sandbox = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                   "--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent",
                   "--unsetenv", "JPY_PARENT_PID",  # the parent's pid is not visible inside
                   "--setenv", "HOME", "/tmp", "--setenv", "MPLCONFIGDIR", "/tmp/matplotlib"]
        for folder in ["/tmp", *self.hidden]:
            sandbox += ["--tmpfs", folder]
        for folder in [sys.prefix, *self.readable]:
            sandbox += ["--ro-bind", folder, folder]
        sandbox += ["--bind", self._runtime, self._runtime, "--bind", cwd, cwd,
                    "--chdir", cwd, "--"]
        return sandbox + limit + command

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(self._runtime, ignore_errors=True)


class Resilient(LoggingConfigurable):
    """Mixin before an nbclient executor (the autograder's): sandboxed kernels that survive
    a cell that kills them, and a time budget per notebook (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)

    notebook_timeout = Integer(DEFAULT.notebook_s, help="seconds for all of a notebook's cells"
                               ).tag(config=True)

    async def async_execute_cell(self, cell, cell_index, execution_count=None,
                                 store_history=True):
        if cell_index == 0:  # nbclient visits every cell, in order, from index 0
            self._deadline = time.monotonic() + self.notebook_timeout
        if cell.cell_type == "code" and time.monotonic() > self._deadline:
            cell.outputs = [_error(NOTEBOOK_TIME_LIMIT, f"the notebook's cells ran longer than "
                                   f"{self.notebook_timeout} s in all, so this cell was not run.")]
            return cell
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count,
                                                    store_history)
        except DeadKernelError:
            cell.outputs = [_error(KERNEL_DIED, "the kernel stopped while running this cell "
                                   "(os._exit, a crash, or running out of memory). It was "
                                   "restarted and the cells above were run again; this cell's "
                                   "work is lost.")]
            await self._restart_and_replay(cell_index)
            return cell

    # nbclient binds execute_cell to its own coroutine at class creation: rebind to ours.
    execute_cell = run_sync(async_execute_cell)

    async def _restart_and_replay(self, upto):
        """Restart the kernel, then rerun the cells before `upto` (not the ones that died)."""
        await ensure_async(self.km.restart_kernel(now=True))
        await ensure_async(self.kc.wait_for_ready(timeout=self.startup_timeout))
        for index, cell in enumerate(self.nb.cells[:upto]):
            if cell.cell_type != "code" or _died(cell):
                continue
            await super().async_execute_cell(copy.deepcopy(cell), index, store_history=False)


def _error(name, text):
    return NotebookNode(output_type="error", ename=name, evalue=text,
                        traceback=[f"{name}: {text}"])


def _died(cell):
    return any(out.get("ename") == KERNEL_DIED for out in cell.get("outputs", []))
