// The API's shapes (DESIGN.md §2). Prices are JSON numbers of dollars.

/** From GET /api/users/currentuser (the JWT's iat/exp are not kept). */
export interface CurrentUser {
  id: string;
  email: string;
}

export interface Ticket {
  id: string;
  title: string;
  price: number;
  userId: string;
  version: number;
  orderId?: string | null;
}

export type OrderStatus = 'created' | 'complete' | 'cancelled';

export interface Order {
  id: string;
  userId: string;
  status: OrderStatus;
  expiresAt: string;
  version: number;
  ticket: { id: string; title: string; price: number; version: number };
}
