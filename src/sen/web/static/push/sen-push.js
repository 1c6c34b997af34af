/*
 * sen-push.js: ask a visitor for notifications and give Sen her browser's subscription.
 *
 *   <script src="https://sen.example.vn/static/push/sen-push.js"></script>
 *   <script>
 *     SenPush.init({host: 'https://sen.example.vn', writeKey: 'sk_...'});
 *     button.onclick = () => SenPush.subscribe();   // browsers ask only after a click
 *   </script>
 *
 * Options: host (Sen's address), writeKey (the web source's key), serviceWorker (the
 * worker's path on the shop's origin, default /sen-push-sw.js), scope (default /),
 * userId and anonymousId (default: analytics.js's ids, else an id kept in localStorage).
 * Every page load re-posts an existing subscription (SenPush.init does it), so Sen learns
 * a visitor's userId once she logs in and a subscription the browser renewed.
 */
(function (global) {
  'use strict';

  var config = null;

  function supported() {
    return 'serviceWorker' in navigator && 'PushManager' in global && 'Notification' in global;
  }

  function keyBytes(base64url) {
    var padded = (base64url + '===='.slice(base64url.length % 4)).replace(/-/g, '+').replace(/_/g, '/');
    var raw = global.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function sameKey(subscription, bytes) {
    var current = subscription.options && subscription.options.applicationServerKey;
    if (!current) return true;
    var view = new Uint8Array(current);
    if (view.length !== bytes.length) return false;
    for (var i = 0; i < view.length; i++) if (view[i] !== bytes[i]) return false;
    return true;
  }

  function stored(name) {
    try {
      var value = global.localStorage.getItem(name);
      return value ? JSON.parse(value) : null;
    } catch (e) {
      return null;
    }
  }

  function identity() {
    var user = config.userId || stored('ajs_user_id');
    var anon = config.anonymousId || stored('ajs_anonymous_id') || stored('sen_anonymous_id');
    if (!user && !anon) {
      anon = global.crypto && global.crypto.randomUUID ? global.crypto.randomUUID()
        : String(Date.now()) + Math.random().toString(16).slice(2);
      try { global.localStorage.setItem('sen_anonymous_id', JSON.stringify(anon)); } catch (e) {}
    }
    return { userId: user || undefined, anonymousId: anon || undefined };
  }

  function post(path, body) {
    body.writeKey = config.writeKey;
    // text/plain keeps this a simple request: no CORS preflight.
    return fetch(config.host + path, {
      method: 'POST', credentials: 'omit', keepalive: true,
      headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify(body),
    });
  }

  function registration() {
    return navigator.serviceWorker.register(config.serviceWorker, { scope: config.scope })
      .then(function () { return navigator.serviceWorker.ready; });
  }

  function publicKey() {
    return fetch(config.host + '/v1/push/vapid-public-key', { credentials: 'omit' })
      .then(function (r) { return r.json(); })
      .then(function (body) { return keyBytes(body.publicKey); });
  }

  function send(subscription) {
    var ids = identity();
    return post('/v1/push/subscribe', {
      subscription: subscription.toJSON(), userId: ids.userId, anonymousId: ids.anonymousId,
    }).then(function (r) { return { ok: r.ok, subscription: subscription }; });
  }

  function subscribe() {
    if (!supported()) return Promise.resolve({ ok: false, reason: 'unsupported' });
    return global.Notification.requestPermission().then(function (permission) {
      if (permission !== 'granted') return { ok: false, reason: permission };
      return Promise.all([registration(), publicKey()]).then(function (found) {
        var reg = found[0], key = found[1];
        return reg.pushManager.getSubscription().then(function (sub) {
          if (sub && !sameKey(sub, key)) return sub.unsubscribe().then(function () { return null; });
          return sub;
        }).then(function (sub) {
          return sub || reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
        }).then(send);
      });
    });
  }

  function unsubscribe() {
    if (!supported()) return Promise.resolve({ ok: false, reason: 'unsupported' });
    return navigator.serviceWorker.getRegistration(config.scope).then(function (reg) {
      return reg ? reg.pushManager.getSubscription() : null;
    }).then(function (sub) {
      if (!sub) return { ok: true };
      return post('/v1/push/unsubscribe', { endpoint: sub.endpoint })
        .then(function () { return sub.unsubscribe(); })
        .then(function () { return { ok: true }; });
    });
  }

  function resync() {
    if (!supported() || global.Notification.permission !== 'granted') return Promise.resolve(null);
    return navigator.serviceWorker.getRegistration(config.scope).then(function (reg) {
      return reg ? reg.pushManager.getSubscription() : null;
    }).then(function (sub) { return sub ? send(sub) : null; });
  }

  function init(options) {
    config = {
      host: String(options.host || '').replace(/\/$/, ''),
      writeKey: options.writeKey,
      serviceWorker: options.serviceWorker || '/sen-push-sw.js',
      scope: options.scope || '/',
      userId: options.userId, anonymousId: options.anonymousId,
    };
    return resync();
  }

  global.SenPush = {
    init: init, subscribe: subscribe, unsubscribe: unsubscribe, supported: supported,
    permission: function () { return supported() ? global.Notification.permission : 'unsupported'; },
  };
})(window);
