const usd = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

/** 25.5 → "$25.50". */
export function formatPrice(price: number): string {
  return usd.format(price);
}

/** What the price field shows after it loses focus: "25.5" → "25.50"; anything unreadable stays as typed. */
export function formatPriceInput(value: string): string {
  const trimmed = value.trim();
  if (trimmed === '') return value;
  const n = Number(trimmed);
  if (!Number.isFinite(n)) return value;
  return n.toFixed(2);
}

/** The price field's value as the API wants it: a number when it reads as one; otherwise as typed, for the service to reject. */
export function priceForApi(value: string): number | string {
  const trimmed = value.trim();
  const n = Number(trimmed);
  return trimmed !== '' && Number.isFinite(n) ? n : trimmed;
}
