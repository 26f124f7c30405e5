"""The Python step of a pond task (engine/pyrun.c runs it; see _udf.py):

    python3 .../pond/_runner.py PICKLE IN OUT

PICKLE is a pickle of (the cloudpickled function, the kind, the input's
[(column, DuckDB type)], the output's column names, the batch size); IN
the task's input rows as JSON lines of text values (DuckDB's VARCHAR
casts, NULL as null); OUT gets the output rows as JSON lines. Exit 0 when
OUT is written; 1 with the traceback on stderr when the function (or
loading it) raised: pond fails the task with it, not retried."""
import os
import sys

if __name__ == "__main__":  # run as a file: the package is beside this one
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(argv):
    import traceback
    try:
        from pond._udf import apply_file
        apply_file(argv[1], argv[2], argv[3])
    except BaseException:  # noqa: B902 - the user's error, reported whole
        sys.stderr.write(traceback.format_exc())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
