import { useCallback, useEffect, useRef, useState } from 'react';
import { request, toApiErrors, type ApiError, type Method, type RequestOptions } from './request';

export interface RequestRunnerOptions<T> {
  path: string;
  method: Method;
  /** Runs after a successful response, while the form still counts as busy (e.g. a navigation). */
  onSuccess?: (data: T) => unknown;
  /** Overrides for tests; the browser uses request() as is. */
  requestOptions?: Omit<RequestOptions, 'method' | 'body'>;
}

export interface RequestState {
  errors: ApiError[] | null;
  inFlight: boolean;
}

/**
 * The state machine behind useRequest, free of React so it can be tested alone: one request at a
 * time (a second submit while one is in flight is ignored), errors cleared when a new one starts.
 */
export function createRequestRunner<T>(
  options: RequestRunnerOptions<T>,
  onChange: (state: RequestState) => void,
) {
  let state: RequestState = { errors: null, inFlight: false };
  const set = (next: Partial<RequestState>) => {
    state = { ...state, ...next };
    onChange(state);
  };

  return {
    get state() {
      return state;
    },
    /** Resolves with the response body, or undefined when the request failed or was ignored. */
    async run(body?: unknown): Promise<T | undefined> {
      if (state.inFlight) return undefined;
      set({ inFlight: true, errors: null });
      try {
        const data = await request<T>(options.path, {
          ...options.requestOptions,
          method: options.method,
          body,
        });
        await options.onSuccess?.(data);
        set({ inFlight: false });
        return data;
      } catch (err) {
        set({ inFlight: false, errors: toApiErrors(err) });
        return undefined;
      }
    },
    clearErrors() {
      set({ errors: null });
    },
  };
}

/** `const { doRequest, errors, inFlight } = useRequest({ path, method, onSuccess })`. */
export function useRequest<T = unknown>(options: RequestRunnerOptions<T>) {
  const [state, setState] = useState<RequestState>({ errors: null, inFlight: false });
  const optionsRef = useRef(options);
  useEffect(() => {
    optionsRef.current = options;
  });
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const runnerRef = useRef<ReturnType<typeof createRequestRunner<T>> | null>(null);
  if (runnerRef.current === null) {
    runnerRef.current = createRequestRunner<T>(
      {
        get path() {
          return optionsRef.current.path;
        },
        get method() {
          return optionsRef.current.method;
        },
        get requestOptions() {
          return optionsRef.current.requestOptions;
        },
        onSuccess: (data) => optionsRef.current.onSuccess?.(data),
      },
      (next) => {
        if (mounted.current) setState(next);
      },
    );
  }
  const runner = runnerRef.current;

  const doRequest = useCallback((body?: unknown) => runner.run(body), [runner]);
  const clearErrors = useCallback(() => runner.clearErrors(), [runner]);
  return { doRequest, clearErrors, errors: state.errors, inFlight: state.inFlight };
}
