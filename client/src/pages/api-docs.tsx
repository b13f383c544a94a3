// The API's reference, readable: Swagger UI over the fleet's OpenAPI document
// (/api/docs/openapi.json, written from the services' code by `cargo run -p ticketing-api-docs`).
// Served at /api/docs (a rewrite in next.config.mjs; the ingress sends that path here). Swagger UI
// comes from the swagger-ui-dist package and is bundled like the rest of the app, so the page
// loads nothing from another origin and runs under the same Content-Security-Policy: no inline
// script or style. It is loaded in the browser only, after the first paint.
import Head from 'next/head';
import { useEffect, useRef, useState } from 'react';
import 'swagger-ui-dist/swagger-ui.css';
import { withSession } from '@/lib/server/session';

/** Where the ingress serves the document (a static file of this app, client/public). */
const OPENAPI_DOCUMENT_URL = '/api/docs/openapi.json';

export const getServerSideProps = withSession();

export default function ApiDocs() {
  const container = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let cancelled = false;
    import('swagger-ui-dist/swagger-ui-bundle.js')
      .then(({ default: SwaggerUIBundle }) => {
        if (cancelled || !container.current) return;
        SwaggerUIBundle({
          url: OPENAPI_DOCUMENT_URL,
          domNode: container.current,
          deepLinking: true,
          // Calls made with "Try it out" go to this origin, with the visitor's session cookie.
          withCredentials: true,
        });
      })
      .catch(() => setFailed(true));
    return () => {
      cancelled = true;
    };
  }, []);

  return (
    <>
      <Head>
        <title>API · Ticketing</title>
      </Head>
      <div className="card api-docs">
        <h1>API</h1>
        <p>
          Every route of the marketplace, generated from the services' code. The document itself:{' '}
          <a href={OPENAPI_DOCUMENT_URL}>{OPENAPI_DOCUMENT_URL}</a> (OpenAPI 3.1).
        </p>
        {failed && <p role="alert">The reference could not be loaded; the document above still can.</p>}
        <div ref={container} />
      </div>
    </>
  );
}
