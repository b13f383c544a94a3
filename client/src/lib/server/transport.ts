// The server-side transport: node's http/https rather than fetch, because fetch silently drops a
// Host header and the Kubernetes ingress routes by host (API_HOST=ticketing.dev).
import http from 'node:http';
import https from 'node:https';
import type { RawResponse, Transport } from '../request';

export function nodeTransport(options: { host?: string; timeoutMs: number }): Transport {
  return (url, init) =>
    new Promise<RawResponse>((resolve, reject) => {
      const target = new URL(url);
      const lib = target.protocol === 'https:' ? https : http;
      const headers: Record<string, string | number> = { ...init.headers };
      if (options.host) headers.host = options.host;
      if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
      const req = lib.request(
        target,
        {
          method: init.method,
          headers,
          timeout: options.timeoutMs,
          // With API_HOST over https, the certificate is the host's, not the address'.
          servername: options.host && target.protocol === 'https:' ? options.host.split(':')[0] : undefined,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const setCookie = res.headers['set-cookie'];
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(res.headers)) {
              if (name !== 'set-cookie' && value !== undefined) {
                headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
              }
            }
            resolve({
              status: res.statusCode ?? 0,
              contentType: String(res.headers['content-type'] ?? ''),
              text: Buffer.concat(chunks).toString('utf8'),
              setCookies: Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [],
              headers,
            });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timed out after ${options.timeoutMs} ms: ${url}`)));
      req.on('error', reject);
      if (init.body !== undefined) req.write(init.body);
      req.end();
    });
}
