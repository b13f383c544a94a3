import type { NextApiRequest, NextApiResponse } from 'next';
import { apiNotFound } from '@/lib/api-not-found';

// The ingress sends /api/users, /api/tickets, /api/orders and /api/payments to the services; any
// other /api/... path falls through to this app (it serves `/`). Such a path is an API request
// all the same, so it gets the API's answer — a 404 in the error shape — never an HTML page.
// (/api/healthz, a route of its own, still wins.)
export default function unknownApiPath(_req: NextApiRequest, res: NextApiResponse) {
  apiNotFound(res);
}

// The body is never read: no parser, no size limit of Next's own to answer in another shape.
export const config = { api: { bodyParser: false } };
