// flowhook ui: the only script (CSP: script-src 'self'). It asks before a deletion and notes
// when the page was first painted, in milliseconds since navigation began: `data-painted`
// (the frame after the first, drawn), and `data-fcp` (first contentful paint) where the
// browser reports it. The browser test reads them.
"use strict";
document.addEventListener("submit", (e) => {
  const ask = e.target.dataset.confirm;
  if (ask && !window.confirm(ask)) e.preventDefault();
});
const root = document.documentElement;
requestAnimationFrame(() =>
  requestAnimationFrame(() => {
    root.dataset.painted = String(Math.round(performance.now()));
  }),
);
if (window.PerformanceObserver) {
  new PerformanceObserver((list) => {
    for (const p of list.getEntries()) {
      if (p.name === "first-contentful-paint") root.dataset.fcp = String(Math.round(p.startTime));
    }
  }).observe({ type: "paint", buffered: true });
}
