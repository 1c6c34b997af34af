/*
 * Sen's Web Push service worker. Host it on the shop's own origin (a service worker
 * only controls pages of the origin it is served from), e.g. as /sen-push-sw.js.
 *
 * A push from Sen carries JSON: {title, body, url, icon, image, badge, tag}. The
 * worker shows it; a click opens `url` (a tracked link, so the click is counted)
 * or focuses a tab already showing it.
 */
'use strict';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

function readPush(event) {
  if (!event.data) return {};
  try {
    return event.data.json();
  } catch (e) {
    return { body: event.data.text() };
  }
}

self.addEventListener('push', (event) => {
  const data = readPush(event);
  const options = {
    body: data.body || '',
    icon: data.icon,
    image: data.image,
    badge: data.badge,
    // The same tag replaces a notification instead of stacking a second copy.
    tag: data.tag,
    data: { url: data.url || null },
  };
  event.waitUntil(self.registration.showNotification(data.title || '', options));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = event.notification.data && event.notification.data.url;
  if (!url) return;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      for (const win of windows) {
        if (win.url === url && 'focus' in win) return win.focus();
      }
      return self.clients.openWindow(url);
    })
  );
});
