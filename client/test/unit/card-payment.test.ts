import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DECLINED,
  MAX_POLLS,
  NOT_COMPLETED,
  confirmOutcome,
  createCardPayment,
  type CardPaymentDeps,
  type CardPaymentState,
  type ConfirmResult,
} from '../../src/lib/card-payment';
import { RequestError } from '../../src/lib/request';
import type { OrderStatus } from '../../src/lib/types';

function deps(overrides: Partial<CardPaymentDeps> & { statuses?: OrderStatus[] } = {}) {
  const statuses = [...(overrides.statuses ?? ['complete'])];
  const calls = { open: 0, confirm: [] as string[], polls: 0, waits: 0 };
  const d: CardPaymentDeps = {
    openIntent: async () => {
      calls.open += 1;
      return { id: 'pi_1', clientSecret: 'pi_1_secret_2' };
    },
    confirm: async (secret) => {
      calls.confirm.push(secret);
      return { paymentIntent: { status: 'succeeded' } };
    },
    orderStatus: async () => {
      calls.polls += 1;
      return statuses.length > 1 ? statuses.shift()! : statuses[0];
    },
    wait: async () => {
      calls.waits += 1;
    },
    ...overrides,
  };
  return { d, calls };
}

describe('what a card confirmation means', () => {
  it('succeeded or processing is paid, as is a refusal to confirm an intent paid already', () => {
    for (const result of [
      { paymentIntent: { status: 'succeeded' } },
      { paymentIntent: { status: 'processing' } },
      { error: { message: 'already succeeded', payment_intent: { status: 'succeeded' } } },
    ] satisfies ConfirmResult[]) {
      assert.equal(confirmOutcome(result), 'processing', JSON.stringify(result));
    }
  });

  it("a decline or a failed 3-D Secure challenge shows Stripe's message; anything else says to try again", () => {
    assert.deepEqual(confirmOutcome({ error: { message: 'Your card was declined.' } }), [
      { message: 'Your card was declined.' },
    ]);
    assert.deepEqual(confirmOutcome({ error: {} }), [{ message: DECLINED }]);
    assert.deepEqual(confirmOutcome({ paymentIntent: { status: 'requires_payment_method' } }), [
      { message: NOT_COMPLETED },
    ]);
  });
});

describe('the card payment flow', () => {
  it('opens the intent, confirms it with its client secret, then polls until the order is complete', async () => {
    const { d, calls } = deps({ statuses: ['created', 'created', 'complete'] });
    const phases: CardPaymentState['phase'][] = [];
    const flow = createCardPayment('o1', d, (s) => phases.push(s.phase));
    await flow.pay();
    assert.deepEqual(phases, ['paying', 'processing', 'complete']);
    assert.deepEqual(calls.confirm, ['pi_1_secret_2']);
    assert.equal(calls.polls, 3);
  });

  it('a cancelled order while processing ends cancelled (the payment goes back)', async () => {
    const { d } = deps({ statuses: ['created', 'cancelled'] });
    const flow = createCardPayment('o1', d, () => {});
    await flow.pay();
    assert.equal(flow.state.phase, 'cancelled');
  });

  it("the service's refusal or a decline leaves the form ready with the messages; a retry works", async () => {
    let refuse = true;
    const { d, calls } = deps({
      openIntent: async () => {
        if (refuse) throw new RequestError(400, [{ message: 'Cannot pay for a cancelled order' }]);
        return { id: 'pi_1', clientSecret: 's' };
      },
    });
    const flow = createCardPayment('o1', d, () => {});
    await flow.pay();
    assert.deepEqual(flow.state, { phase: 'ready', errors: [{ message: 'Cannot pay for a cancelled order' }] });
    assert.equal(calls.confirm.length, 0, 'Stripe.js is not asked without an intent');

    refuse = false;
    d.confirm = async () => ({ error: { message: 'Your card was declined.' } });
    await flow.pay();
    assert.deepEqual(flow.state, { phase: 'ready', errors: [{ message: 'Your card was declined.' }] });
    d.confirm = async () => ({ paymentIntent: { status: 'succeeded' } });
    await flow.pay();
    assert.equal(flow.state.phase, 'complete');
  });

  it('ignores a second submit while paying', async () => {
    let release!: () => void;
    const { d, calls } = deps({
      openIntent: () =>
        new Promise((resolve) => {
          release = () => resolve({ id: 'pi', clientSecret: 's' });
        }),
    });
    const flow = createCardPayment('o1', d, () => {});
    const first = flow.pay();
    await flow.pay();
    release();
    await first;
    assert.equal(calls.confirm.length, 1);
  });

  it('keeps polling through failed looks, and says it is slow after the last one', async () => {
    let looks = 0;
    const { d, calls } = deps({
      orderStatus: async () => {
        looks += 1;
        if (looks % 2 === 0) throw new Error('network');
        return 'created';
      },
    });
    const flow = createCardPayment('o1', d, () => {});
    await flow.pay();
    assert.equal(flow.state.phase, 'slow');
    assert.equal(looks, MAX_POLLS);
    assert.equal(calls.waits, MAX_POLLS);
  });
});
