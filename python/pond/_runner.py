"""python3 -m pond._runner TASK: one partition of a Python function step
(see _udf.py). TASK is a pickle of (the cloudpickled function, the kind,
the rows, the columns, the batch size, the output path). Exit 0 when the
output is written; else the traceback on stderr and exit 1."""
import pickle
import sys

from pond._udf import _apply


def main(argv):
    with open(argv[1], "rb") as f:
        pickled, kind, rows, columns, batch_size, out = pickle.load(f)
    tb = _apply(pickled, kind, rows, columns, batch_size, out)
    if tb:
        sys.stderr.write(tb)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
