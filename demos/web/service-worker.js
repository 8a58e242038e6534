// The app shell's service worker. The build prepends two constants to this file:
//   SHELL_VERSION  a hash of every file in the build (a new build is a new worker)
//   SHELL_FILES    the paths of the shell: '/', index.html and the hashed assets
// Documents are not cached here: they live in IndexedDB and sync over the WebSocket.

const CACHE_PREFIX = 'converge-notes-shell-'
const CACHE = `${CACHE_PREFIX}${SHELL_VERSION}`
// Relay endpoints are never the app, even when navigated to.
const NOT_THE_APP = /^\/(api\/|metrics$|healthz$|readyz$)/

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      // 'reload': fetch past the HTTP cache, so the shell is this build's, not an older copy.
      .then((cache) => cache.addAll(SHELL_FILES.map((path) => new Request(path, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  )
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(keys.filter((k) => k.startsWith(CACHE_PREFIX) && k !== CACHE).map((k) => caches.delete(k))),
      )
      .then(() => self.clients.claim()),
  )
})

self.addEventListener('fetch', (event) => {
  const request = event.request
  if (request.method !== 'GET') return
  const url = new URL(request.url)
  if (url.origin !== self.location.origin || NOT_THE_APP.test(url.pathname)) return
  if (request.mode === 'navigate') {
    // Every page of the app is the shell (the note is in the URL's hash or query).
    event.respondWith(fromCacheFirst('/index.html', request))
    return
  }
  if (SHELL_FILES.includes(url.pathname)) event.respondWith(fromCacheFirst(url.pathname, request))
})

/** The cached copy when there is one (offline, or simply faster), else the network. */
const fromCacheFirst = async (path, request) => {
  const cache = await caches.open(CACHE)
  const cached = await cache.match(path)
  return cached ?? fetch(request)
}
