export const STRIPE_SOURCES: { script: string[]; frame: string[]; connect: string[] };
export function contentSecurityPolicy(dev: boolean, options?: { stripe?: boolean }): string;
export function securityHeaders(): { key: string; value: string }[];
