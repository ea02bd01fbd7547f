// flowhook ui: the only script (CSP: script-src 'self'). It asks before a deletion and notes
// when the page first painted (data-fcp on <html>), which the browser test reads.
"use strict";
document.addEventListener("submit", (e) => {
  const ask = e.target.dataset.confirm;
  if (ask && !window.confirm(ask)) e.preventDefault();
});
if (window.PerformanceObserver) {
  new PerformanceObserver((list) => {
    for (const p of list.getEntries()) {
      if (p.name === "first-contentful-paint") {
        document.documentElement.dataset.fcp = String(Math.round(p.startTime));
      }
    }
  }).observe({ type: "paint", buffered: true });
}
