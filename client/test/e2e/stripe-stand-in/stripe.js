// A stand-in for Stripe.js (https://js.stripe.com/<release>/stripe.js), served by the browser
// test in its place: Stripe's script cannot be loaded here. It implements what the order page
// and @stripe/react-stripe-js call — Stripe(key), elements(), create('card') with mount/on/off/
// update/destroy, getElement('card'), confirmCardPayment — and behaves like Stripe's test cards:
//
//   4242 4242 4242 4242   succeeds
//   4000 0000 0000 0002   is declined ("Your card was declined.")
//   4000 0027 6000 3184   asks for 3-D Secure: a challenge frame from hooks.stripe.com, where the
//                         test clicks "Complete authentication" (succeeds) or "Fail authentication"
//
// As with Stripe's, the card field is a frame of js.stripe.com (card-frame.html) that hands the
// number to this script by postMessage: the page itself never sees it. What the page asked of it
// is kept in window.__stripeStandIn for the test to read. It never calls the network: Stripe's
// webhook is played by the test, signed with the endpoint secret.
(function () {
  'use strict';
  var ORIGIN = 'https://js.stripe.com';
  var HOOKS = 'https://hooks.stripe.com';
  var record = { keys: [], confirmations: [] };
  window.__stripeStandIn = record;

  var card = { number: '' };
  var cardElement = null;

  window.addEventListener('message', function (event) {
    var data = event.data || {};
    if (event.origin === ORIGIN && data.standIn === 'card') {
      card.number = String(data.number || '').replace(/\s+/g, '');
      if (cardElement) {
        cardElement._emit('change', {
          elementType: 'card',
          empty: card.number === '',
          complete: card.number.length >= 16,
          brand: 'visa',
          error: undefined,
        });
      }
    }
  });

  function createCardElement() {
    var handlers = {};
    var frame = null;
    var element = {
      mount: function (target) {
        var node = typeof target === 'string' ? document.querySelector(target) : target;
        frame = document.createElement('iframe');
        frame.name = 'stand-in-card';
        frame.title = 'Secure card payment input frame';
        frame.src = ORIGIN + '/stand-in/card-frame.html';
        frame.style.border = '0';
        frame.style.width = '100%';
        frame.style.height = '24px';
        frame.addEventListener('load', function () {
          element._emit('ready', { elementType: 'card' });
        });
        node.appendChild(frame);
      },
      on: function (event, handler) {
        (handlers[event] = handlers[event] || []).push(handler);
        return element;
      },
      off: function (event, handler) {
        handlers[event] = (handlers[event] || []).filter(function (h) {
          return h !== handler;
        });
        return element;
      },
      update: function () {},
      focus: function () {},
      blur: function () {},
      clear: function () {},
      unmount: function () {
        if (frame) frame.remove();
      },
      destroy: function () {
        if (frame) frame.remove();
        if (cardElement === element) cardElement = null;
      },
      _emit: function (event, payload) {
        (handlers[event] || []).forEach(function (handler) {
          handler(payload);
        });
      },
    };
    return element;
  }

  function challenge() {
    return new Promise(function (resolve) {
      var overlay = document.createElement('div');
      overlay.style.position = 'fixed';
      overlay.style.inset = '0';
      overlay.style.background = 'rgba(0,0,0,0.4)';
      overlay.style.display = 'flex';
      overlay.style.alignItems = 'center';
      overlay.style.justifyContent = 'center';
      var frame = document.createElement('iframe');
      frame.name = 'stand-in-3ds';
      frame.title = '3D Secure authentication';
      frame.src = HOOKS + '/stand-in/3ds-challenge.html';
      frame.style.width = '360px';
      frame.style.height = '220px';
      frame.style.border = '0';
      frame.style.background = '#fff';
      overlay.appendChild(frame);
      document.body.appendChild(overlay);
      function answer(event) {
        if (event.origin !== HOOKS || !event.data || event.data.standIn !== '3ds') return;
        window.removeEventListener('message', answer);
        overlay.remove();
        resolve(event.data.outcome === 'complete');
      }
      window.addEventListener('message', answer);
    });
  }

  function intentOf(clientSecret, status) {
    return { id: String(clientSecret).split('_secret_')[0], object: 'payment_intent', status: status };
  }

  function Stripe(key) {
    record.keys.push(key);
    var elements = {
      create: function (type) {
        if (type !== 'card') throw new Error('the Stripe.js stand-in has only the card element, not ' + type);
        cardElement = createCardElement();
        return cardElement;
      },
      // A type, or (as @stripe/react-stripe-js passes) the component that names its type.
      getElement: function (type) {
        var name = typeof type === 'string' ? type : type && type.__elementType;
        return name === 'card' ? cardElement : null;
      },
      update: function () {},
    };
    return {
      elements: function () {
        return elements;
      },
      createToken: function () {
        return Promise.resolve({ error: { message: 'not in the stand-in' } });
      },
      createPaymentMethod: function () {
        return Promise.resolve({ error: { message: 'not in the stand-in' } });
      },
      confirmCardPayment: function (clientSecret, data) {
        var number = card.number;
        record.confirmations.push({
          clientSecret: clientSecret,
          withTheCardElement: !!(data && data.payment_method && data.payment_method.card === cardElement),
          last4: number.slice(-4),
        });
        if (number === '4000000000000002') {
          return Promise.resolve({
            error: {
              type: 'card_error',
              code: 'card_declined',
              message: 'Your card was declined.',
              payment_intent: intentOf(clientSecret, 'requires_payment_method'),
            },
          });
        }
        if (number === '4000002760003184') {
          return challenge().then(function (passed) {
            return passed
              ? { paymentIntent: intentOf(clientSecret, 'succeeded') }
              : {
                  error: {
                    type: 'invalid_request_error',
                    code: 'payment_intent_authentication_failure',
                    message:
                      'We are unable to authenticate your payment method. Please choose a different payment method and try again.',
                    payment_intent: intentOf(clientSecret, 'requires_payment_method'),
                  },
                };
          });
        }
        if (number === '4242424242424242') {
          return Promise.resolve({ paymentIntent: intentOf(clientSecret, 'succeeded') });
        }
        return Promise.resolve({
          error: { type: 'validation_error', code: 'incomplete_number', message: 'Your card number is incomplete.' },
        });
      },
      _registerWrapper: function () {},
      registerAppInfo: function () {},
    };
  }
  Stripe.version = 'endive';
  window.Stripe = Stripe;
})();
