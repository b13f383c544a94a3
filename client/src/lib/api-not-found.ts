// The API's 404 (DESIGN.md §2: unknown route → 404 `Not Found`, in the error shape), for /api/...
// paths no service owns. Only what it needs of the response, so a unit test can pass a fake.
export interface ApiResponse {
  setHeader(name: string, value: string): unknown;
  status(code: number): { json(body: unknown): unknown };
}

export const API_NOT_FOUND = { errors: [{ message: 'Not Found' }] };

export function apiNotFound(res: ApiResponse): void {
  res.setHeader('cache-control', 'no-store');
  res.setHeader('x-content-type-options', 'nosniff');
  res.status(404).json(API_NOT_FOUND);
}
