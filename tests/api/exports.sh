#!/usr/bin/env bash
# exports.sh LIBPOND HEADER — the library exports exactly the functions
# include/pond.h declares with POND_API, nothing else: it is built with
# -fvisibility=hidden, so every other global symbol (pond_fail, sb_add,
# engine_run_task, …) must be HIDDEN in every object of the archive.
set -euo pipefail
lib=$1 header=$2
exported=$(readelf -sW "$lib" | awk '($4 == "FUNC" || $4 == "OBJECT") && $5 == "GLOBAL" && $6 == "DEFAULT" && $7 != "UND" { print $8 }' | sort -u)
declared=$(grep -o '^POND_API [^(]*(' "$header" | sed 's/($//; s/.*[ *]//' | sort -u)
if [ "$exported" != "$declared" ]; then
	echo "exported but not in pond.h:"
	comm -23 <(echo "$exported") <(echo "$declared") | sed 's/^/  /'
	echo "in pond.h but not exported:"
	comm -13 <(echo "$exported") <(echo "$declared") | sed 's/^/  /'
	exit 1
fi
echo "exports: $(echo "$declared" | wc -l) functions, exactly pond.h's"
