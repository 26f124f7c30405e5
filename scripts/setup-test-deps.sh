#!/usr/bin/env bash
# Installs what the optional tests need beyond scripts/setup.sh, on Debian 12:
# Slurm's controller, node daemon and client commands (slurm-wlm 22.05, with
# the PMIx plugin mpi_pmix in slurm-wlm-basic-plugins) and munge, for
# tests/slurm/slurm_srun.sh, which starts a throwaway one-node Slurm cluster.
# The packages' own services are not started (no systemd here; the test starts
# its private daemons itself). The linters scripts/lint.sh runs:
# clang-tidy, cppcheck and clang-format. And Chromium, which
# tests/e2e/report.sh runs headless to render the run report. Idempotent:
# skips what is installed. And python3-pandas, python3-cloudpickle and
# python3-pytest for the Python API's tests (python/tests, run with Debian's
# /usr/bin/python3), and python3-venv (venv with its ensurepip, which brings
# pip), python3-setuptools and python3-wheel for tests/install/pip_venv.sh,
# which pip-installs python/ into a venv with no package index.
set -euo pipefail

need=()
for p in slurmctld slurmd slurm-client munge clang-tidy cppcheck clang-format chromium \
  python3-pandas python3-cloudpickle python3-pytest python3-venv python3-setuptools python3-wheel; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  echo "setup-test-deps: installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
