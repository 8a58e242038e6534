/**
 * Registers the service worker that caches the app shell, so the page loads offline. Only
 * in a production build: the dev server's modules change all the time and must not be cached.
 */
export const registerServiceWorker = (): void => {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((err) => {
    console.warn('service worker registration failed; the app will not load offline', err)
  })
}
