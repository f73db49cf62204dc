"""Children die with ``heartline run``, however it dies.

A SIGKILLed or hung-up runner cannot stop anything, and the services run in
sessions of their own (so a Ctrl-C reaches only the runner, which stops them in
order). Two ties make them follow the runner anyway:

* Python services: the runner holds the write end of a pipe; each child gets
  the read end (``HEARTLINE_LIFELINE_FD``) and watches it on a daemon thread.
  When the runner's process is gone, the kernel closes the write end, the read
  returns EOF, and the child sends itself SIGTERM (a clean stop), then exits
  for good 15 s later. This works whichever thread spawned the child.
* Brokers (Tansu, Java): ``PR_SET_PDEATHSIG`` = SIGTERM, set in the child
  before exec. Linux ties it to the *thread* that forked, so it is set only
  when the spawning thread is the main thread (``heartline run`` starts and
  restarts brokers from its main thread; tests stop theirs themselves).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

ENV = "HEARTLINE_LIFELINE_FD"
PR_SET_PDEATHSIG = 1


class Lifeline:
    """The runner's side: a pipe whose read end every child inherits."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.set_inheritable(self.read_fd, True)

    def env(self) -> dict[str, str]:
        return {ENV: str(self.read_fd)}

    @property
    def pass_fds(self) -> tuple[int, ...]:
        return (self.read_fd,)


def watch_parent() -> bool:
    """In a child: stop when the runner's lifeline closes. False when there is none."""
    fd = os.environ.pop(ENV, None)
    if not fd:
        return False
    try:
        fd_num = int(fd)
        os.fstat(fd_num)
    except (ValueError, OSError):
        return False

    def watch() -> None:
        try:
            while os.read(fd_num, 1):
                pass
        except OSError:
            pass
        print("heartline: the runner is gone; stopping", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(15)
        os._exit(1)

    threading.Thread(target=watch, name="heartline-lifeline", daemon=True).start()
    return True


def die_with_parent_preexec():
    """A ``preexec_fn`` that sets PR_SET_PDEATHSIG, or None where it would be wrong or unsupported."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return None

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    return preexec
