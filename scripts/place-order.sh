#!/usr/bin/env bash
# Places a sample order with the order service's HTTP API, prints the
# response (status line, headers, body), then how to follow the order.
# Exits non-zero unless the answer is 202 Accepted.
#
# The items come from the inventory service's demo catalog
# (services/inventory/migrations/00002_demo_catalog.sql): ESPRESSO-1KG,
# MUG-WHITE, FILTER-PAPER-100, GRINDER-HAND (20 in stock), KETTLE-GOOSENECK
# (15), TEA-SENCHA-250G, DRIPPER-V60, SCALE-COFFEE. Order more than the
# stock, or a SKU not in it, and the order ends `rejected` with an apology
# mail; otherwise it ends `confirmed`.
#
# Usage: scripts/place-order.sh [CUSTOMER_UUID]
# Environment:
#   ORDERS_URL       base URL of the order service (default http://127.0.0.1:8080)
#   EMAIL_URL, SMS_URL  base URLs of the email and sms services, for the hints
#                    printed after the order (default http://127.0.0.1:8083, :8084)
#   ITEMS            SKU:QUANTITY pairs, comma-separated
#                    (default ESPRESSO-1KG:1,MUG-WHITE:2; try GRINDER-HAND:50)
#   CUSTOMER_EMAIL   the receipt goes there (default customer-<first 8 of the id>@example.com)
#   CUSTOMER_PHONE   the SMS goes there, E.164 (default +442071838750)
#   IDEMPOTENCY_KEY  sent as the Idempotency-Key header when set
#
# Placing an order needs no credential (guest checkout); the 202 holds an
# order token ("token") that reads this one order, which the hints use.
set -euo pipefail

orders_url="${ORDERS_URL:-http://127.0.0.1:8080}"
items_spec="${ITEMS:-ESPRESSO-1KG:1,MUG-WHITE:2}"

new_uuid() {
	if command -v uuidgen >/dev/null 2>&1; then
		uuidgen | tr 'A-Z' 'a-z'
	else
		cat /proc/sys/kernel/random/uuid
	fi
}

customer_id="${1:-$(new_uuid)}"
email="${CUSTOMER_EMAIL:-customer-${customer_id:0:8}@example.com}"
phone="${CUSTOMER_PHONE:-+442071838750}"

items=""
IFS=',' read -ra pairs <<<"${items_spec}"
for pair in "${pairs[@]}"; do
	sku="${pair%%:*}"
	qty="${pair#*:}"
	if [[ -z "${sku}" || "${pair}" != *:* || ! "${qty}" =~ ^[0-9]+$ ]]; then
		echo "place-order: ITEMS entry '${pair}' is not SKU:QUANTITY" >&2
		exit 2
	fi
	items+="${items:+, }{\"sku\": \"${sku}\", \"quantity\": ${qty}}"
done

body=$(cat <<JSON
{
  "customer": {
    "id": "${customer_id}",
    "name": "Ada Lovelace",
    "email": "${email}",
    "phone": "${phone}"
  },
  "items": [${items}]
}
JSON
)

headers=(-H 'Content-Type: application/json' -H 'Accept: application/json')
if [[ -n "${IDEMPOTENCY_KEY:-}" ]]; then
	headers+=(-H "Idempotency-Key: ${IDEMPOTENCY_KEY}")
fi

echo "POST ${orders_url}/v1/orders (customer ${customer_id}, items ${items_spec})" >&2
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

# The order's path is in the Location header (/v1/orders/<id>); the order
# token is the body's "token" member.
location=$(printf '%s\n' "${response}" | tr -d '\r' | sed -n 's/^[Ll]ocation: *//p' | head -n 1)
order_id="${location##*/}"
order_token=$(printf '%s\n' "${response}" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p' | head -n 1)
if [[ -n "${order_id}" ]]; then
	cat >&2 <<EOF

Follow the order (pending until the inventory service decides, then confirmed or rejected):
  ORDER_TOKEN=${order_token} scripts/order-status.sh ${order_id}
  curl -s -H 'Authorization: Bearer ${order_token}' ${orders_url}${location}
its mails (a receipt, and an apology if rejected) and its SMS (operator:read):
  curl -s -H "Authorization: Bearer \$(scripts/token.sh operator:read)" '${EMAIL_URL:-http://127.0.0.1:8083}/v1/mails?order_id=${order_id}'
  curl -s -H "Authorization: Bearer \$(scripts/token.sh operator:read)" '${SMS_URL:-http://127.0.0.1:8084}/v1/messages?to=${phone/+/%2B}'
EOF
fi
