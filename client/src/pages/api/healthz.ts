import type { NextApiRequest, NextApiResponse } from 'next';

// Served as /healthz (a rewrite in next.config.mjs): the process answers. It does not call the API,
// so the client is "up" even while a service is down (its pages then say so).
export default function healthz(_req: NextApiRequest, res: NextApiResponse) {
  res.setHeader('cache-control', 'no-store');
  res.status(200).json({ status: 'ok' });
}
