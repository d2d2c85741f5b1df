#!/usr/bin/env bash
# Places a sample order with the order service's HTTP API and prints the
# response (status line, headers, body). Exits non-zero unless the answer
# is 202 Accepted.
#
# Usage: scripts/place-order.sh [CUSTOMER_UUID]
# Environment:
#   ORDERS_URL       base URL of the order service (default http://127.0.0.1:8080)
#   CUSTOMER_EMAIL   the receipt goes there (default customer-<first 8 of the id>@example.com)
#   IDEMPOTENCY_KEY  sent as the Idempotency-Key header when set
set -euo pipefail

orders_url="${ORDERS_URL:-http://127.0.0.1:8080}"

new_uuid() {
	if command -v uuidgen >/dev/null 2>&1; then
		uuidgen | tr 'A-Z' 'a-z'
	else
		cat /proc/sys/kernel/random/uuid
	fi
}

customer_id="${1:-$(new_uuid)}"
email="${CUSTOMER_EMAIL:-customer-${customer_id:0:8}@example.com}"

body=$(cat <<JSON
{
  "customer": {
    "id": "${customer_id}",
    "name": "Ada Lovelace",
    "email": "${email}",
    "phone": "+442071838750"
  },
  "items": [
    {"sku": "ESPRESSO-1KG", "quantity": 1},
    {"sku": "MUG-WHITE", "quantity": 2}
  ]
}
JSON
)

headers=(-H 'Content-Type: application/json' -H 'Accept: application/json')
if [[ -n "${IDEMPOTENCY_KEY:-}" ]]; then
	headers+=(-H "Idempotency-Key: ${IDEMPOTENCY_KEY}")
fi

echo "POST ${orders_url}/v1/orders (customer ${customer_id})" >&2
# -i prints the status line and headers before the body; the last line of
# output is the status code alone, written by -w.
response=$(curl -sS -i -X POST "${headers[@]}" --data-binary "${body}" \
	-w '\n%{http_code}' "${orders_url}/v1/orders")
status="${response##*$'\n'}"
printf '%s\n' "${response%$'\n'*}"

if [[ "${status}" != "202" ]]; then
	echo "place-order: expected 202 Accepted, got ${status}" >&2
	exit 1
fi
