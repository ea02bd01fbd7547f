// flowhook ui: the only script (CSP: script-src 'self'). It asks before a deletion and notes
// the page's first contentful paint (ms since navigation began) as `data-fcp` on <html>,
// which the browser test reads.
"use strict";
document.addEventListener("submit", (e) => {
  const ask = e.target.dataset.confirm;
  if (ask && !window.confirm(ask)) e.preventDefault();
});
const root = document.documentElement;
if (window.PerformanceObserver) {
  new PerformanceObserver((list) => {
    for (const p of list.getEntries()) {
      if (p.name === "first-contentful-paint") root.dataset.fcp = String(Math.round(p.startTime));
    }
  }).observe({ type: "paint", buffered: true });
}
