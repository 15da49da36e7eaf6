"""Runs a command under the system call filter of a systemd unit, as systemd would
(SystemCallFilter=, SystemCallErrorNumber=, SystemCallArchitectures=native), for
tests/packages/test-packages.sh: systemd is not PID 1 on the test machine, and a
service that calls something its filter forbids would only fail in production.

The named sets (@system-service, ...) are expanded by `systemd-analyze syscall-filter`
of the installed systemd, so they match what this systemd would enforce. Needs libseccomp's
Python binding (Debian: python3-seccomp) and no_new_privs already set (setpriv
--no-new-privs), like systemd with NoNewPrivileges=yes.

Usage: python3 seccomp_exec.py UNIT_FILE COMMAND [ARG ...]
"""

import errno
import os
import re
import subprocess
import sys

import seccomp


def expand(name, seen=None):
    """Syscall names of a set (recursively) or of a single name."""
    if not name.startswith("@"):
        return {name}
    seen = seen if seen is not None else set()
    if name in seen:
        return set()
    seen.add(name)
    out = subprocess.run(
        ["systemd-analyze", "syscall-filter", name], check=True, capture_output=True, text=True
    ).stdout
    calls = set()
    for line in out.splitlines()[1:]:
        item = line.strip()
        if item and not item.startswith("#"):
            calls |= expand(item, seen)
    return calls


def unit_filter(unit_text):
    """The allowed syscalls and the errno of a unit's SystemCallFilter= lines."""
    allowed = None
    for line in re.findall(r"^SystemCallFilter=(.*)$", unit_text, re.M):
        deny = line.startswith("~")
        names = set()
        for item in line.lstrip("~").split():
            names |= expand(item)
        if allowed is None:
            if deny:
                sys.exit("seccomp_exec.py: only allow-list filters (first line without ~)")
            allowed = names
        elif deny:
            allowed -= names
        else:
            allowed |= names
    if allowed is None:
        sys.exit("seccomp_exec.py: the unit has no SystemCallFilter=")
    number = re.search(r"^SystemCallErrorNumber=(\w+)$", unit_text, re.M)
    err = getattr(errno, number.group(1)) if number else None
    return allowed, err


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        allowed, err = unit_filter(f.read())
    # Without SystemCallErrorNumber= systemd kills the process (SIGSYS).
    default = seccomp.ERRNO(err) if err is not None else seccomp.KILL_PROCESS
    filt = seccomp.SyscallFilter(defaction=default)
    known = 0
    for name in sorted(allowed):
        try:
            filt.add_rule(seccomp.ALLOW, name)
            known += 1
        except (RuntimeError, ValueError):
            pass  # a name this kernel/libseccomp does not know
    filt.load()
    print(f"seccomp_exec.py: {known} system calls allowed", file=sys.stderr)
    os.execvp(sys.argv[2], sys.argv[2:])


if __name__ == "__main__":
    main()
