"""ctypes bindings to libpond (include/pond.h): found through POND_LIBRARY,
the installed tree (lib/libpond.so beside this package's lib/python
directory), build/libpond.so of the source tree this package sits in, or,
for a package installed by pip (in a site-packages away from the library),
beside the `pond` found on PATH (P/bin/pond -> P/lib/libpond.so, as `cmake
--install` lays them out; build/pond -> build/libpond.so)."""
import ctypes
import os
import shutil

c_char_p, c_int, c_size_t, c_int64, c_bool, c_void_p = (
    ctypes.c_char_p, ctypes.c_int, ctypes.c_size_t, ctypes.c_int64, ctypes.c_bool, ctypes.c_void_p)


class Options(ctypes.Structure):
    """pond_options, field for field."""
    _fields_ = [
        ("workers", c_int), ("threads", c_int), ("memory_limit", c_int64), ("seed", ctypes.c_uint64),
        ("job_dir", c_char_p), ("resume", c_bool), ("max_attempts", c_int), ("progress", c_int),
        ("defines", c_void_p), ("ndefines", c_size_t), ("mpi", c_bool), ("task_timeout", ctypes.c_double),
        ("speculate", c_bool), ("inject_p", ctypes.c_double), ("inject_seed", ctypes.c_uint64),
        ("keep_intermediates", c_bool), ("report", c_char_p),
    ]


class KV(ctypes.Structure):
    """pond_kv: a name and a value as text."""
    _fields_ = [("name", c_char_p), ("value", c_char_p)]


def _candidates():
    env = os.environ.get("POND_LIBRARY")
    if env:
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    # installed: PREFIX/lib/python/pond/_lib.py -> PREFIX/lib/libpond.so
    yield os.path.join(here, "..", "..", "libpond.so")
    # the source tree: python/pond/_lib.py -> build/libpond.so
    yield os.path.join(here, "..", "..", "build", "libpond.so")
    exe = shutil.which("pond")
    if exe:
        bindir = os.path.dirname(os.path.realpath(exe))
        yield os.path.join(bindir, "..", "lib", "libpond.so")
        yield os.path.join(bindir, "libpond.so")
    yield "libpond.so"


def _load():
    errors = []
    for path in _candidates():
        if os.sep in path:
            path = os.path.normpath(path)
        if os.sep in path and not os.path.exists(path):
            errors.append(f"{path}: not found")
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append(str(e))
    raise ImportError("pond: cannot load libpond.so (set POND_LIBRARY to its path, or put the bin directory of "
                      "`cmake --install` on PATH): " + "; ".join(errors))


lib = _load()

_sigs = {
    "pond_options_init": (None, [c_void_p]),
    "pond_session_new": (c_int, [c_void_p, ctypes.POINTER(c_void_p)]),
    "pond_session_free": (None, [c_void_p]),
    "pond_errmsg": (c_char_p, [c_void_p]),
    "pond_mpi_join": (c_int, [c_void_p, ctypes.POINTER(c_bool)]),
    "pond_run": (c_int, [c_void_p]),
    "pond_at": (None, [c_void_p, c_char_p, c_int]),
    "pond_read": (c_int, [c_void_p, c_int, ctypes.POINTER(c_char_p), c_size_t, ctypes.POINTER(KV), c_size_t,
                          ctypes.POINTER(KV), c_size_t, ctypes.POINTER(c_void_p)]),
    "pond_partial_sql": (c_int, [c_void_p, c_char_p, ctypes.POINTER(c_void_p), c_size_t, ctypes.POINTER(c_void_p)]),
    "pond_sql_step": (c_int, [c_void_p, c_char_p, ctypes.POINTER(c_void_p), c_size_t, ctypes.POINTER(c_void_p)]),
    "pond_filter": (c_int, [c_void_p, c_void_p, c_char_p, ctypes.POINTER(c_void_p)]),
    "pond_map": (c_int, [c_void_p, c_void_p, c_char_p, ctypes.POINTER(c_void_p)]),
    "pond_flat_map": (c_int, [c_void_p, c_void_p, c_char_p, ctypes.POINTER(c_void_p)]),
    "pond_python": (c_int, [c_void_p, c_void_p, c_char_p, c_char_p, c_char_p, ctypes.POINTER(KV), c_size_t,
                            ctypes.POINTER(c_void_p)]),
    "pond_partial_sort": (c_int, [c_void_p, c_void_p, c_char_p, ctypes.POINTER(c_void_p)]),
    "pond_limit": (c_int, [c_void_p, c_void_p, c_int64, ctypes.POINTER(c_void_p)]),
    "pond_repartition": (c_int, [c_void_p, c_void_p, c_int, c_int, ctypes.POINTER(c_char_p), c_size_t,
                                 ctypes.POINTER(c_void_p)]),
    "pond_write": (c_int, [c_void_p, c_void_p, c_int, c_char_p, ctypes.POINTER(KV), c_size_t, c_bool]),
    "pond_dataset_partitions": (c_int, [c_void_p]),
    "pond_dataset_columns": (c_size_t, [c_void_p]),
    "pond_dataset_column": (c_char_p, [c_void_p, c_size_t, ctypes.POINTER(c_char_p)]),
    "pond_set_job": (c_int, [c_void_p, c_char_p, c_bool]),
    "pond_fetch": (c_int, [c_void_p, c_void_p, c_char_p, ctypes.POINTER(c_void_p)]),
    "pond_result_rows": (c_int64, [c_void_p]),
    "pond_result_columns": (c_size_t, [c_void_p]),
    "pond_result_name": (c_char_p, [c_void_p, c_size_t]),
    "pond_result_type": (c_char_p, [c_void_p, c_size_t]),
    "pond_result_values": (ctypes.POINTER(c_char_p), [c_void_p, c_size_t]),
    "pond_result_kind": (c_int, [c_void_p, c_size_t]),
    "pond_result_data": (c_void_p, [c_void_p, c_size_t]),
    "pond_result_valid": (c_void_p, [c_void_p, c_size_t]),
    "pond_result_free": (None, [c_void_p]),
}
for _name, (_res, _args) in _sigs.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args

POND_PROGRESS_NONE = 2
FORMAT = {"parquet": 0, "csv": 1, "json": 2}
BY = {"files": 0, "rows": 1, "hash": 2, "expr": 3, "range": 4, "random": 5}


def enc(s):
    return None if s is None else str(s).encode()


def strings(items):
    arr = (c_char_p * max(len(items), 1))()
    for i, s in enumerate(items):
        arr[i] = enc(s)
    return arr


def kvs(pairs):
    arr = (KV * max(len(pairs), 1))()
    for i, (k, v) in enumerate(pairs):
        arr[i].name = enc(k)
        arr[i].value = enc(v)
    return arr
