#!/usr/bin/env bash
# Mints a development token (an HS256 JWT) for the orderbus HTTP APIs and
# prints it alone, for "Authorization: Bearer $(scripts/token.sh)".
# It signs with AUTH_JWT_KEY, by default the published development key
# that make run and docker compose give the services (accepted only with
# ORDERBUS_ENV=development). Needs openssl; without it, it runs
# e2e/cmd/orderbus-token with Go.
#
# Usage:
#   scripts/token.sh                      an operator token with every role
#   scripts/token.sh operator:read        an operator token with these roles (comma-separated)
#   scripts/token.sh -customer UUID       a customer token (reads that customer's orders,
#                                         requests its erasure)
# Environment:
#   AUTH_JWT_KEY   the signing key (default: the development key)
#   TOKEN_TTL      validity in seconds (default 86400)
#   TOKEN_SUBJECT  subject of an operator token (default ops-dev)
set -euo pipefail

key="${AUTH_JWT_KEY:-orderbus-development-jwt-key-do-not-use-in-production}"
ttl="${TOKEN_TTL:-86400}"
all_roles="operator:read,stock:write,erasure:write,dlq:write"

subject="${TOKEN_SUBJECT:-ops-dev}"
roles="${all_roles}"
if [[ "${1:-}" == "-customer" ]]; then
	if [[ ! "${2:-}" =~ ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$ ]]; then
		echo "usage: $0 -customer CUSTOMER_UUID" >&2
		exit 2
	fi
	subject=$(printf '%s' "$2" | tr 'A-F' 'a-f')
	roles=""
elif [[ -n "${1:-}" ]]; then
	roles="$1"
fi

if ! command -v openssl >/dev/null 2>&1; then
	root=$(cd "$(dirname "$0")/.." && pwd)
	args=(-ttl "${ttl}s")
	if [[ -z "${roles}" ]]; then args+=(-customer "${subject}"); else args+=(-roles "${roles}" -subject "${subject}"); fi
	cd "${root}" && exec go run ./e2e/cmd/orderbus-token "${args[@]}"
fi

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
roles_json=""
if [[ -n "${roles}" ]]; then
	roles_json=",\"roles\":[\"${roles//,/\",\"}\"]"
fi
header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
payload=$(printf '{"iss":"orderbus","sub":"%s","iat":%d,"exp":%d%s}' "${subject}" "${now}" $((now + ttl)) "${roles_json}" | b64url)
signature=$(printf '%s.%s' "${header}" "${payload}" | openssl dgst -sha256 -hmac "${key}" -binary | b64url)
printf '%s.%s.%s\n' "${header}" "${payload}" "${signature}"
