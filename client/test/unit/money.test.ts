import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPrice, formatPriceInput, priceForApi } from '../../src/lib/money';

describe('prices', () => {
  it('formatPrice shows dollars with two decimals', () => {
    assert.equal(formatPrice(25.5), '$25.50');
    assert.equal(formatPrice(19.99), '$19.99');
    assert.equal(formatPrice(1000), '$1,000.00');
  });

  it('the price field shows two decimals after blur, and leaves what it cannot read alone', () => {
    assert.equal(formatPriceInput('25.5'), '25.50');
    assert.equal(formatPriceInput(' 7 '), '7.00');
    assert.equal(formatPriceInput('abc'), 'abc');
    assert.equal(formatPriceInput(''), '');
  });

  it('sends a number when the field reads as one, otherwise the text for the service to reject', () => {
    assert.equal(priceForApi('25.50'), 25.5);
    assert.equal(priceForApi('abc'), 'abc');
    assert.equal(priceForApi(''), '');
  });
});
