"""The build backend (PEP 517) of pond's Python package, standard library
only, so that `pip install ./python` works where there is no package index:
pip's isolated build environment gets nothing to install (pyproject.toml
requires nothing), where setuptools would need `setuptools` and `wheel`
downloaded or, with --no-build-isolation, Debian's python3-wheel in the
environment. It builds one pure-Python wheel of the `pond` directory
(ctypes over libpond.so: nothing to compile), an editable wheel (`pip
install -e`) and a source archive. The package's metadata is here."""
import base64
import hashlib
import io
import os
import tarfile
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


def build_sdist(sdist_directory, config_settings=None):
    """A source archive of what this backend needs to build the wheel again:
    pyproject.toml, this file, the package and PKG-INFO."""
    base = f"{NAME}-{VERSION}"
    files = [("pyproject.toml", _read(os.path.join(HERE, "pyproject.toml"))),
             ("pond_build.py", _read(__file__)), ("PKG-INFO", METADATA.encode())]
    files += [(a, _read(p)) for a, p in _sources()]
    with tarfile.open(os.path.join(sdist_directory, base + ".tar.gz"), "w:gz", format=tarfile.PAX_FORMAT) as t:
        for arcname, data in files:
            entry = tarfile.TarInfo(f"{base}/{arcname}")
            entry.size, entry.mode, entry.mtime = len(data), 0o644, max(EPOCH, 315532800)
            t.addfile(entry, io.BytesIO(data))
    return base + ".tar.gz"


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []
