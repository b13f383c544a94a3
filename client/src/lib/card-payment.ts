// Paying by card, free of React and of Stripe.js so it can be tested alone (test/unit/card-payment.test.ts):
//
//   ready ──pay──▶ paying ──(intent opened, card confirmed by Stripe.js)──▶ processing ──▶ complete
//     ▲              │                                                         │   └──▶ cancelled
//     └── errors ────┘                                                         └──▶ slow (still processing)
//
// `paying` asks the payments service for the order's PaymentIntent (POST /api/payments/intents)
// and has Stripe.js confirm it with the card (a 3-D Secure challenge, when the card needs one,
// happens inside that call). Stripe then tells the payments service by webhook, which records the
// payment; orders marks the order complete. So once the card is confirmed the page only waits:
// `processing` polls the order until it is complete (or cancelled: it expired meanwhile, and the
// payment is refunded).
import type { ApiError } from './request';
import { toApiErrors } from './request';
import type { OrderStatus } from './types';

export type CardPhase = 'ready' | 'paying' | 'processing' | 'complete' | 'cancelled' | 'slow';

export interface CardPaymentState {
  phase: CardPhase;
  errors: ApiError[] | null;
}

/** What `POST /api/payments/intents` answers. */
export interface OpenedIntent {
  id: string;
  clientSecret: string;
}

/** The part of Stripe.js' `confirmCardPayment` result this flow reads. */
export interface ConfirmResult {
  paymentIntent?: { status: string } | null;
  error?: { message?: string; payment_intent?: { status: string } | null } | null;
}

export interface CardPaymentDeps {
  openIntent(orderId: string): Promise<OpenedIntent>;
  /** Stripe.js confirming the intent with the card the buyer typed. */
  confirm(clientSecret: string): Promise<ConfirmResult>;
  orderStatus(orderId: string): Promise<OrderStatus>;
  wait(ms: number): Promise<void>;
}

export const POLL_INTERVAL_MS = 1_500;
/** About two minutes of polling before the page says it is taking long (it keeps its link to My orders). */
export const MAX_POLLS = 80;

export const NOT_COMPLETED = 'The payment was not completed; please try again';
export const DECLINED = 'Your card could not be charged';

/** Stripe took the money, or is taking it: the webhook will say when. */
const PAID_STATUSES = new Set(['succeeded', 'processing']);

/** `processing` once Stripe has the payment; otherwise the messages to show next to the form. */
export function confirmOutcome(result: ConfirmResult): 'processing' | ApiError[] {
  if (result.paymentIntent && PAID_STATUSES.has(result.paymentIntent.status)) return 'processing';
  if (result.error) {
    // Confirmed already (another tab, a double submit): Stripe refuses to confirm it again.
    const status = result.error.payment_intent?.status;
    if (status && PAID_STATUSES.has(status)) return 'processing';
    return [{ message: result.error.message?.trim() || DECLINED }];
  }
  return [{ message: NOT_COMPLETED }];
}

export function createCardPayment(
  orderId: string,
  deps: CardPaymentDeps,
  onChange: (state: CardPaymentState) => void,
) {
  let state: CardPaymentState = { phase: 'ready', errors: null };
  const set = (next: CardPaymentState) => {
    state = next;
    onChange(state);
  };

  async function untilSettled() {
    for (let poll = 0; poll < MAX_POLLS; poll += 1) {
      try {
        const status = await deps.orderStatus(orderId);
        if (status === 'complete') return set({ phase: 'complete', errors: null });
        if (status === 'cancelled') return set({ phase: 'cancelled', errors: null });
      } catch {
        // A failed look is no news: ask again.
      }
      await deps.wait(POLL_INTERVAL_MS);
    }
    set({ phase: 'slow', errors: null });
  }

  return {
    get state() {
      return state;
    },
    /** One payment at a time: a second submit while one runs is ignored. */
    async pay(): Promise<void> {
      if (state.phase !== 'ready') return;
      set({ phase: 'paying', errors: null });
      let outcome: 'processing' | ApiError[];
      try {
        const intent = await deps.openIntent(orderId);
        outcome = confirmOutcome(await deps.confirm(intent.clientSecret));
      } catch (err) {
        outcome = toApiErrors(err);
      }
      if (outcome !== 'processing') return set({ phase: 'ready', errors: outcome });
      set({ phase: 'processing', errors: null });
      await untilSettled();
    },
  };
}
