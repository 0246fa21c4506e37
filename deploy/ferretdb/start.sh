#!/usr/bin/env bash
# Start FerretDB (see main.go) on 127.0.0.1:$FERRETDB_PORT (27017) in the
# background unless something already listens there, building it once into
# $FERRETDB_HOME (/tmp/lethe-ferretdb). Used by .ci/run and by the tests'
# helper (pkg/testdb), so both run the same server. Waits until it answers.
set -euo pipefail

FERRETDB_PORT=${FERRETDB_PORT:-27017}
FERRETDB_HOME=${FERRETDB_HOME:-/tmp/lethe-ferretdb}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$FERRETDB_PORT") 2>/dev/null; }

if listening; then
	exit 0
fi
mkdir -p "$FERRETDB_HOME/data"
bin="$FERRETDB_HOME/ferretdb"
if [ ! -x "$bin" ] || [ "$here/main.go" -nt "$bin" ] || [ "$here/go.mod" -nt "$bin" ]; then
	echo "ferretdb: building $bin (once)" >&2
	(cd "$here" && CGO_ENABLED=0 go build -o "$bin.tmp" . && mv "$bin.tmp" "$bin")
fi
nohup setsid "$bin" -listen "127.0.0.1:$FERRETDB_PORT" -dir "$FERRETDB_HOME/data" \
	>"$FERRETDB_HOME/ferretdb.log" 2>&1 </dev/null &
echo $! >"$FERRETDB_HOME/ferretdb.pid"
for _ in $(seq 1 60); do
	if listening; then
		exit 0
	fi
	sleep 1
done
echo "ferretdb: not listening on 127.0.0.1:$FERRETDB_PORT after 60s; see $FERRETDB_HOME/ferretdb.log" >&2
exit 1
