// The one way this app talks to the services. `request()` is a plain function (pages' server-side
// code and tests call it); `useRequest()` in use-request.ts wraps it for forms.
//
// Every failure comes out as a RequestError holding a list of `{message, field?}` — the services'
// own `{"errors":[…]}` when they sent one, otherwise one message that says what happened (the
// ingress' HTML 502 page, a dropped connection), so a form always has a list to show.

export interface ApiError {
  message: string;
  field?: string;
}

export class RequestError extends Error {
  readonly status: number;
  readonly errors: ApiError[];

  constructor(status: number, errors: ApiError[]) {
    super(errors.map((e) => e.message).join('; ') || `Request failed with status ${status}`);
    this.name = 'RequestError';
    this.status = status;
    this.errors = errors;
  }
}

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** What a transport hands back: just enough of an HTTP response. */
export interface RawResponse {
  status: number;
  contentType: string;
  text: string;
  /** Set-Cookie headers, one per cookie (server side only; browsers hide them). */
  setCookies: string[];
  /** The other response headers, names in lower case (pagination reads Link / X-Next-Cursor). */
  headers?: Record<string, string>;
}

export interface TransportInit {
  method: Method;
  headers: Record<string, string>;
  body?: string;
}

export type Transport = (url: string, init: TransportInit) => Promise<RawResponse>;

export interface RequestOptions {
  method?: Method;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** '' (the default) keeps the path relative: the browser calls its own origin, the ingress. */
  baseUrl?: string;
  transport?: Transport;
}

export interface Response<T> {
  status: number;
  data: T;
  setCookies: string[];
  /** Response headers, names in lower case. */
  headers: Record<string, string>;
}

export const NETWORK_ERROR = 'Could not reach the server; check your connection and try again';
export const UNAVAILABLE_ERROR = 'The service is unavailable right now; please try again shortly';
export const GENERIC_ERROR = 'Something went wrong';

/** The browser's fetch, same-origin cookies included. */
export const fetchTransport: Transport = async (url, init) => {
  const res = await fetch(url, {
    method: init.method,
    headers: init.headers,
    body: init.body,
    credentials: 'same-origin',
  });
  const headers = res.headers as Headers & { getSetCookie?: () => string[] };
  const all: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    all[name.toLowerCase()] = value;
  });
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    text: await res.text(),
    setCookies: typeof headers.getSetCookie === 'function' ? headers.getSetCookie() : [],
    headers: all,
  };
};

function isApiError(value: unknown): value is ApiError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

/** The list of messages for a failed response, whatever its body was. */
export function errorsFromResponse(status: number, contentType: string, text: string): ApiError[] {
  if (contentType.includes('json') || text.trimStart().startsWith('{')) {
    try {
      const body = JSON.parse(text) as { errors?: unknown };
      if (Array.isArray(body.errors)) {
        const errors = body.errors.filter(isApiError).map((e) =>
          e.field === undefined || e.field === null
            ? { message: e.message }
            : { message: e.message, field: String(e.field) },
        );
        if (errors.length > 0) return errors;
      }
    } catch {
      // not JSON after all: fall through to a message chosen by status
    }
  }
  if (status === 404) return [{ message: 'Not Found' }];
  if (status === 401) return [{ message: 'Not authorized' }];
  if (status === 502 || status === 503 || status === 504) return [{ message: UNAVAILABLE_ERROR }];
  return [{ message: GENERIC_ERROR }];
}

/** Turns anything thrown at a form into the list it shows. */
export function toApiErrors(err: unknown): ApiError[] {
  if (err instanceof RequestError) return err.errors;
  return [{ message: GENERIC_ERROR }];
}

/** Sends one request; resolves with status, parsed body and cookies, or rejects with RequestError. */
export async function send<T = unknown>(path: string, options: RequestOptions = {}): Promise<Response<T>> {
  const method = options.method ?? 'GET';
  const transport = options.transport ?? fetchTransport;
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }

  let raw: RawResponse;
  try {
    raw = await transport(`${options.baseUrl ?? ''}${path}`, { method, headers, body });
  } catch {
    throw new RequestError(0, [{ message: NETWORK_ERROR }]);
  }

  if (raw.status < 200 || raw.status >= 300) {
    throw new RequestError(raw.status, errorsFromResponse(raw.status, raw.contentType, raw.text));
  }

  let data: unknown = undefined;
  if (raw.status !== 204 && raw.text.trim() !== '') {
    try {
      data = JSON.parse(raw.text);
    } catch {
      throw new RequestError(raw.status, [{ message: GENERIC_ERROR }]);
    }
  }
  return { status: raw.status, data: data as T, setCookies: raw.setCookies, headers: raw.headers ?? {} };
}

/** `send` for callers that only want the body. */
export async function request<T = unknown>(path: string, options: RequestOptions = {}): Promise<T> {
  return (await send<T>(path, options)).data;
}
