"""Where a student's code runs during grading: a kernel that is sealed off and can be revived.

`SandboxedKernelManager` starts the IPython kernel
- inside bubblewrap (when `bwrap` is installed), in a file system built from an allowlist
  rather than the machine's minus a list, so that nothing the list forgot is reachable:
  read-only, the system's programs, libraries and settings (/usr, /etc, /sys, and /bin, /lib,
  /sbin... as they are), the Python installation (sys.prefix and sys.base_prefix, even when
  that lies in a home folder, e.g. /root/.pyenv/versions/3.11.7: that one folder only) and the
  course's packages (nnlib, nncourse, wherever this Python imports them from); writable, only
  the notebook's own folder, the kernel's runtime folder (its IPC sockets, connection file
  and home) and an empty /tmp. Nothing else of the machine is in there (the folders above
  those are empty): no /run (/var/run), /var, /home, /srv, /mnt, /opt, nothing else of /root,
  no folder of the course repository, the gradebook, the grading folders or any other
  submission, so no Unix socket of the machine (PostgreSQL's, D-Bus, X11, a container
  runtime's, the grading process's) can be connected to and no dotfile of the grading user's
  home (~/.pgpass, ~/.ssh, ~/.config, ~/.npmrc...) can be read; a hidden folder
  (Limits.hidden) that lies inside a visible one is covered by an empty folder.
  The kernel also has its own network (none: abstract Unix sockets are per network
  namespace too), process and IPC namespaces, and no capabilities: when grading runs as
  root, student code could otherwise remount the read-only folders writable;
- with an environment from an allowlist (ENVIRONMENT: the locale, PATH, the settings that
  NumPy, Matplotlib and TensorFlow read, what jupyter_client sets for the kernel) and HOME
  set to an empty folder of the kernel's own, with or without bubblewrap: no PG*,
  DATABASE_URL, *_TOKEN, *_KEY, AWS_* or SSH_AUTH_SOCK of the grading process reaches it;
- with a memory limit (`prlimit --as`), so that a memory hog gets a MemoryError;
- over Jupyter's IPC transport (Unix sockets in the kernel's runtime folder, shared with the
  sandbox), because a kernel in its own network namespace cannot be reached over TCP loopback.
Without bubblewrap the kernel still gets the memory limit and the sealed environment, but it
can read and connect to whatever the grading user can: `nncourse grade` says so when it starts.
The kernel runs as the grading user: what that user alone may read in /etc or /usr (as root,
e.g. /etc/shadow), the kernel may read too, so grade as an ordinary user.

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
from importlib.util import find_spec

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import DeadKernelError
from nbformat.notebooknode import NotebookNode
from traitlets import Integer, List, Unicode
from traitlets.config import LoggingConfigurable

from nncourse.grading.limits import DEFAULT, KERNEL_DIED, NOTEBOOK_TIME_LIMIT

# The system's folders a kernel reads (those of them this machine has): a symbolic link (/bin ->
# usr/bin on a merged-/usr system) is made again as it is, a folder is mounted read-only.
SYSTEM = ("/usr", "/etc", "/sys", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# The environment variables a kernel keeps, by name or by prefix (`LC_`: LC_ALL, LC_CTYPE...):
# the locale and time zone; PATH and LD_LIBRARY_PATH, to find programs and libraries (on a
# cluster, what `module load` set); PYTHONPATH and PYTHONHASHSEED; NumPy's threads (Dask's
# workers set them to 1); Matplotlib's and TensorFlow's settings; and `JPY_` (jupyter_client's,
# e.g. JPY_SESSION_NAME). The kernel spec's own variables are kept too.
ENVIRONMENT = ("PATH", "LD_LIBRARY_PATH", "LANG", "LANGUAGE", "LC_", "TZ", "PYTHONPATH",
               "PYTHONHASHSEED", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "MPLBACKEND", "KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS",
               "JPY_")
PACKAGES = ("nnlib", "nncourse")  # the course's packages, which the lessons import


def bubblewrap():
    """The path of `bwrap`, or None when the sandbox is not available."""
    return shutil.which("bwrap")


def kernel_environment(environment, keep=()):
    """The variables of `environment` (a mapping) that a kernel may have: those ENVIRONMENT
    names, and those in `keep` (the kernel spec's)."""
    def allowed(name):
        return name in keep or any(name == entry or entry.endswith("_") and
                                   name.startswith(entry) for entry in ENVIRONMENT)
    return {name: value for name, value in environment.items() if allowed(name)}


class SandboxedKernelManager(AsyncKernelManager):
    """An IPython kernel behind bubblewrap, a sealed environment and a memory limit, over IPC
    sockets."""

    hidden = List(Unicode(), help="folders to hide from the kernel").tag(config=True)
    readable = List(Unicode(), help="folders inside hidden ones to show read-only").tag(
        config=True)
    memory_limit_mb = Integer(DEFAULT.memory_mb, help="address-space limit of the kernel, in MB"
                              ).tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Sockets, connection file and the kernel's home live in a private folder that the
        # sandbox shares.
        self._runtime = tempfile.mkdtemp(prefix="nncourse-kernel-")
        self._home = os.path.join(self._runtime, "home")
        os.mkdir(self._home)
        self.transport = "ipc"
        self.ip = os.path.join(self._runtime, "kernel")
        self.connection_file = os.path.join(self._runtime, "connection.json")

    async def _async_pre_start_kernel(self, **kw):
        # jupyter_client hands the kernel a copy of this process's environment (kw["env"]):
        # keep only what a kernel needs, whether or not bubblewrap runs.
        command, kw = await super()._async_pre_start_kernel(**kw)
        kw["env"] = {**kernel_environment(kw["env"], keep=self.kernel_spec.env),
                     "HOME": self._home}
        return command, kw

    pre_start_kernel = run_sync(_async_pre_start_kernel)

    def format_kernel_cmd(self, extra_arguments=None):
        # Interrupt (on a cell timeout) by a message that the kernel turns into a SIGINT to
        # itself: a SIGINT to the process group would also stop bwrap, and with it the kernel.
        self.kernel_spec.interrupt_mode = "message"
        command = super().format_kernel_cmd(extra_arguments)
        limit = ["prlimit", f"--as={self.memory_limit_mb * 2**20}", "--"]
        bwrap = bubblewrap()
        if bwrap is None:
            return limit + command
        return [bwrap, *self._sandbox(), "--"] + limit + command

    def _sandbox(self):
        """bubblewrap's options: the file system, namespaces and capabilities of the kernel
        (see the module docstring)."""
        cwd = os.getcwd()
        options = ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent",
                   "--cap-drop", "ALL",
                   "--unsetenv", "JPY_PARENT_PID",  # the parent's pid is not visible inside
                   "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
        for path in SYSTEM:
            if os.path.islink(path):
                options += ["--symlink", os.readlink(path), path]
            elif os.path.isdir(path):
                options += ["--ro-bind", path, path]
        # Only folders that exist here: a Dask worker gets the paths of the machine that
        # started the grading, which this one may not have.
        shown = _existing([sys.base_prefix, sys.prefix, *_packages(), *self.readable])
        for folder in shown:
            options += ["--ro-bind", folder, folder]
        covered = [f for f in _existing(self.hidden)
                   if any(_inside(f, v) for v in [*SYSTEM, *shown])]
        for folder in covered:
            options += ["--tmpfs", folder]
        for folder in shown:  # shown again if a hidden folder covered it
            if any(_inside(folder, c) for c in covered):
                options += ["--ro-bind", folder, folder]
        return options + ["--bind", self._runtime, self._runtime, "--bind", cwd, cwd,
                          "--chdir", cwd]

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(self._runtime, ignore_errors=True)


def _packages():
    """The folders of the course's packages, as this Python imports them."""
    return [find_spec(name).submodule_search_locations[0] for name in PACKAGES]


def _existing(folders):
    """The folders (real paths, outer ones first) that exist on this machine."""
    return sorted({os.path.realpath(f) for f in folders if os.path.isdir(f)}, key=len)


def _inside(path, folder):
    return os.path.commonpath([path, folder]) == folder


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
