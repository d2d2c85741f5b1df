#!/usr/bin/env bash
# Asks orderbus to erase a customer's personal data (GDPR), then polls the
# erasure until every participant has answered and it is completed,
# printing each participant's answer (when, and how many records of each
# kind it erased) as it arrives. A participant that is down makes the
# erasure wait, never fail: this script waits with it, up to the timeout.
#
# Usage: scripts/erase.sh CUSTOMER_ID
# Environment:
#   GDPR_URL      base URL of the gdpr service (default http://127.0.0.1:8082)
#   ORDERBUS_TOKEN  a bearer token with erasure:write, or the customer's own
#                 token (default: a development erasure:write token from
#                 scripts/token.sh; make run and docker compose use the
#                 development key)
#   WAIT_SECONDS  how long to wait for completion (default 120)
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
	echo "usage: $0 CUSTOMER_ID" >&2
	exit 2
fi
gdpr_url="${GDPR_URL:-http://127.0.0.1:8082}"
token="${ORDERBUS_TOKEN:-$("$(dirname "$0")/token.sh" erasure:write)}"
wait_seconds="${WAIT_SECONDS:-120}"

# summary prints one line per participant from an erasure's JSON.
summary() {
	if command -v jq >/dev/null 2>&1; then
		jq -r '.participants[] | "  \(.service): \(.state)" +
			(if .answered_at then " at \(.answered_at), erased \(.erased // {} | to_entries | map("\(.key)=\(.value)") | join(" "))" else "" end)'
	else
		python3 -c '
import json, sys
e = json.load(sys.stdin)
for p in e["participants"]:
    line = "  %s: %s" % (p["service"], p["state"])
    if p.get("answered_at"):
        erased = " ".join("%s=%s" % kv for kv in sorted((p.get("erased") or {}).items()))
        line += " at %s, erased %s" % (p["answered_at"], erased)
    print(line)'
	fi
}
field() { # field NAME: a top-level string field of the JSON on stdin
	if command -v jq >/dev/null 2>&1; then jq -r ".$1"; else python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; fi
}

response=$(curl -sS -X POST "${gdpr_url}/v1/erasures" \
	-H "Authorization: Bearer ${token}" -H 'Content-Type: application/json' \
	-d "{\"customer_id\": \"$1\"}" -w '\n%{http_code}')
status="${response##*$'\n'}"
body="${response%$'\n'*}"
if [[ "${status}" != "202" && "${status}" != "200" ]]; then
	echo "erase: POST ${gdpr_url}/v1/erasures: ${status}" >&2
	printf '%s\n' "${body}" >&2
	exit 1
fi
id=$(printf '%s' "${body}" | field id)
echo "erasure ${id} for customer $1 (HTTP ${status}); waiting for every participant..."

last=""
deadline=$((SECONDS + wait_seconds))
while :; do
	body=$(curl -sS -f -H "Authorization: Bearer ${token}" "${gdpr_url}/v1/erasures/${id}")
	now=$(printf '%s' "${body}" | summary)
	if [[ "${now}" != "${last}" ]]; then
		printf '%s\n' "${now}"
		last="${now}"
	fi
	state=$(printf '%s' "${body}" | field status)
	if [[ "${state}" == "completed" ]]; then
		echo "completed at $(printf '%s' "${body}" | field completed_at)"
		exit 0
	fi
	if ((SECONDS >= deadline)); then
		echo "erase: still ${state} after ${wait_seconds}s (a participant is down? it answers when it is back)" >&2
		exit 1
	fi
	sleep 1
done
