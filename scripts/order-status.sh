#!/usr/bin/env bash
# Prints an order as the order service shows it: its status (pending,
# confirmed or rejected), items and status history, each entry with its
# time and note (a rejection's note names the missing SKUs). With jq on
# the PATH the history is also summed up one line per entry.
# Exits 1 when the order is unknown or the service does not answer 200.
#
# Usage: scripts/order-status.sh ORDER_ID
# Environment:
#   ORDERS_URL   base URL of the order service (default http://127.0.0.1:8080)
#   ORDER_TOKEN  the order token of the 202 (scripts/place-order.sh prints
#                it), or a customer's or operator's token; default: a
#                development operator:read token from scripts/token.sh
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
	echo "usage: $0 ORDER_ID" >&2
	exit 2
fi
orders_url="${ORDERS_URL:-http://127.0.0.1:8080}"
url="${orders_url}/v1/orders/$1"

token="${ORDER_TOKEN:-$("$(dirname "$0")/token.sh" operator:read)}"
response=$(curl -sS -H 'Accept: application/json' -H "Authorization: Bearer ${token}" -w '\n%{http_code}' "${url}")
status="${response##*$'\n'}"
body="${response%$'\n'*}"

if [[ "${status}" != "200" ]]; then
	echo "order-status: GET ${url}: ${status}" >&2
	printf '%s\n' "${body}" >&2
	exit 1
fi

if command -v jq >/dev/null 2>&1; then
	printf '%s\n' "${body}" | jq .
	printf '%s\n' "${body}" | jq -r '"\nstatus: \(.status)\nhistory:",
		(.history[]? | "  \(.at)  \(.status)\(if .note then "  (\(.note))" else "" end)")'
elif command -v python3 >/dev/null 2>&1; then
	printf '%s\n' "${body}" | python3 -m json.tool
else
	printf '%s\n' "${body}"
fi
