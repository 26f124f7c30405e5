#!/usr/bin/env bash
# CTest's python_api: pond's pytest suite (python/tests) with Debian's
# /usr/bin/python3. Each test is named as it starts (-v), so a suite that
# dies mid-test names the test; pytest's own summary is missing then, so
# this says how the interpreter ended (a signal, and a kernel OOM kill
# when dmesg is readable). --capture=sys captures Python's output only:
# what C code writes to fd 2 (a sanitizer's report before it exits 1)
# reaches the log; captured at fd level it was lost with the exit.
# Usage: pytest.sh PYTHON_TESTS_DIR
set -u
/usr/bin/python3 -X faulthandler -m pytest -v --capture=sys -p no:cacheprovider "$1"
rc=$?
if [ "$rc" -gt 128 ]; then
	sig=$((rc - 128))
	echo "pytest.sh: the interpreter was killed by signal $sig (SIG$(kill -l "$sig" 2>/dev/null))" >&2
	dmesg 2>/dev/null | grep -i -E "out of memory|oom|killed process" | tail -n 5 >&2
elif [ "$rc" -gt 5 ]; then
	echo "pytest.sh: the interpreter exited $rc without pytest's summary (exit() or _exit() outside Python?)" >&2
fi
exit "$rc"
