#!/usr/bin/env bash
# Plays Stripe's webhook on this machine: sends the payments service a Stripe event about one
# order's PaymentIntent, signed as Stripe signs (Stripe-Signature: t=<now>,v1=<HMAC-SHA256 of
# "<t>.<body>" with the endpoint secret>), through the local ingress. stripe-mock has no webhooks,
# so this is how a card payment completes locally (README.md, "Card payments").
#
#   scripts/stripe-webhook-event.sh ORDER_ID CENTS [TYPE]
#
#   TYPE     payment_intent.succeeded (default: the order is paid), or any other event type
#            (payment_intent.payment_failed, payment_intent.processing, …: acknowledged, ignored)
# Environment: STRIPE_WEBHOOK_SECRET (default whsec_local_fleet, as scripts/fleet.sh gives the
# payments service), INGRESS_URL (http://127.0.0.1:8080), SIGNED_AT (seconds since the epoch;
# default now — set it more than 5 minutes back to see a stale signature refused).
set -euo pipefail

die() { printf 'stripe-webhook-event: %s\n' "$*" >&2; exit 1; }
[[ $# -ge 2 ]] || die "usage: scripts/stripe-webhook-event.sh ORDER_ID CENTS [TYPE]"
order=$1 cents=$2 type=${3:-payment_intent.succeeded}
[[ $order =~ ^[0-9a-f]{24}$ ]] || die "ORDER_ID must be an order id (24 hex digits)"
[[ $cents =~ ^[1-9][0-9]*$ ]] || die "CENTS must be a positive whole number (the order's price in cents)"
[[ $type =~ ^[a-z_.]+$ ]] || die "TYPE must be a Stripe event type, e.g. payment_intent.succeeded"
command -v openssl >/dev/null && command -v curl >/dev/null || die "needs openssl and curl"

secret=${STRIPE_WEBHOOK_SECRET:-whsec_local_fleet}
ingress=${INGRESS_URL:-http://127.0.0.1:8080}
now=$(date +%s)
at=${SIGNED_AT:-$now}
status=succeeded received=$cents
if [[ $type != payment_intent.succeeded ]]; then status=requires_payment_method received=0; fi

body=$(printf '{"id":"evt_local_%s_%s","object":"event","type":"%s","created":%s,"livemode":false,"data":{"object":{"id":"pi_local_%s","object":"payment_intent","amount":%s,"amount_received":%s,"currency":"usd","status":"%s","latest_charge":"ch_local_%s","metadata":{"order_id":"%s"}}}}' \
  "$order" "$now" "$type" "$now" "$order" "$cents" "$received" "$status" "$order" "$order")
signature=$(printf '%s.%s' "$at" "$body" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)

printf '==> %s for order %s (%s cents), signed at %s\n' "$type" "$order" "$cents" "$at"
curl -sS -i -X POST "$ingress/api/payments/webhook" \
  -H 'content-type: application/json' \
  -H "stripe-signature: t=$at,v1=$signature" \
  --data-binary "$body"
echo
