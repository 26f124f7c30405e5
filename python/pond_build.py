"""The build backend (PEP 517) of pond's Python package, standard library
only, so that `pip install ./python` works where there is no package index:
pip's isolated build environment gets nothing to install (pyproject.toml
requires nothing), where setuptools would need `setuptools` and `wheel`
downloaded or, with --no-build-isolation, Debian's python3-wheel in the
environment. It builds one pure-Python wheel of the `pond` directory
(ctypes over libpond.so: nothing to compile). The package's metadata is here."""
import base64
import hashlib
import os
import time
import zipfile

NAME = "pond"
VERSION = "0.1.0"
METADATA = f"""Metadata-Version: 2.1
Name: {NAME}
Version: {VERSION}
Summary: pond's Python API: smallpond's DataFrame on a distributed DuckDB (ctypes over libpond.so)
Requires-Python: >=3.9
Provides-Extra: pandas
Requires-Dist: pandas; extra == "pandas"
Provides-Extra: functions
Requires-Dist: cloudpickle; extra == "functions"
Requires-Dist: pandas; extra == "functions"
"""
WHEEL = """Wheel-Version: 1.0
Generator: pond_build
Root-Is-Purelib: true
Tag: py3-none-any
"""
HERE = os.path.dirname(os.path.abspath(__file__))
# Zip entries' time: SOURCE_DATE_EPOCH when set (reproducible builds), else
# zip's earliest date, so the same sources give the same wheel.
EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))


def _sources():
    """(path in the wheel, path on disk) of the package's .py files."""
    top = os.path.join(HERE, NAME)
    for name in sorted(os.listdir(top)):
        if name.endswith(".py"):
            yield f"{NAME}/{name}", os.path.join(top, name)


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def _write_wheel(wheel_directory, files):
    """files: [(path in the wheel, bytes)]; adds the dist-info and RECORD."""
    info = f"{NAME}-{VERSION}.dist-info"
    files = files + [(f"{info}/METADATA", METADATA.encode()), (f"{info}/WHEEL", WHEEL.encode())]
    record = [_record_line(a, d) for a, d in files] + [f"{info}/RECORD,,"]
    files.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode()))
    wheel = f"{NAME}-{VERSION}-py3-none-any.whl"
    stamp = _date_time()
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w", zipfile.ZIP_DEFLATED) as z:
        for arcname, data in files:
            entry = zipfile.ZipInfo(arcname, stamp)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(entry, data)
    return wheel


def _date_time():
    return time.gmtime(max(EPOCH, 315532800))[:6]


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, [(a, _read(p)) for a, p in _sources()])


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """`pip install -e ./python`: a .pth file that puts this directory on
    sys.path, so the installed package is the source tree's."""
    return _write_wheel(wheel_directory, [(f"__editable__.{NAME}.pth", (HERE + "\n").encode())])


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []
