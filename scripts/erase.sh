#!/usr/bin/env bash
# Asks orderbus to erase a customer's personal data (GDPR), then polls the
# erasure until it is completed, printing each participant's progress as
# it changes (answered: how many records of each kind it erased; verified:
# nothing left, events suppressed, its consumers' ack floors), and at the
# end a receipt: the purge (messages removed by stream, up to which
# sequence) and every participant's counts and verification. A participant
# that is down makes the erasure wait, never fail: this script waits with
# it, up to the timeout, naming the participants it waits for.
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

# summary prints one line per participant from an erasure's JSON, and
# the participants it waits for.
summary() {
	python3 -c '
import json, sys
e = json.load(sys.stdin)
def kv(d):
    return " ".join("%s=%s" % item for item in sorted((d or {}).items())) or "-"
for p in e["participants"]:
    line = "  %-9s %s" % (p["service"], p["state"])
    if p.get("answered_at"):
        line += ", erased %s" % kv(p.get("erased"))
    v = p.get("verification")
    if v:
        line += "; verified: remaining %s, suppressed %s, ack floors %s" % (
            kv(v.get("remaining")), v.get("suppressed", 0), kv(v.get("consumers")))
    print(line)
if e.get("waiting"):
    print("  waiting for: " + ", ".join(e["waiting"]))'
}
# receipt prints the proof of a completed erasure from its JSON.
receipt() {
	python3 -c '
import json, sys
e = json.load(sys.stdin)
def kv(d):
    return " ".join("%s=%s" % item for item in sorted((d or {}).items())) or "-"
print("receipt of erasure %s" % e["id"])
print("  customer      %s" % e["customer_id"])
print("  requested at  %s (the cut-off: orders placed up to it are erased)" % e["requested_at"])
purge = e.get("purge") or {}
print("  purged at     %s: removed %s; bounds %s" % (e.get("purged_at"), kv(purge.get("removed")), kv(purge.get("bounds"))))
for p in e["participants"]:
    v = p.get("verification") or {}
    print("  %-9s answered %s erased %s" % (p["service"], p.get("answered_at"), kv(p.get("erased"))))
    print("  %-9s verified %s remaining %s suppressed %s ack floors %s" % ("", p.get("verified_at"),
        kv(v.get("remaining")), v.get("suppressed", 0), kv(v.get("consumers"))))
print("  completed at  %s" % e.get("completed_at"))'
}
field() { # field NAME: a top-level string field of the JSON on stdin
	python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
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
		printf '%s' "${body}" | receipt
		exit 0
	fi
	if ((SECONDS >= deadline)); then
		echo "erase: still ${state} after ${wait_seconds}s (a participant is down? it answers when it is back)" >&2
		exit 1
	fi
	sleep 1
done
