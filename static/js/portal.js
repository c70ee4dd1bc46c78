// The portal works without JavaScript; this file only adds small comforts.
// It is served from 'self', as the Content-Security-Policy requires.
(function () {
  "use strict";
  // Send the CSRF token with every htmx request.
  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) {
      e.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
    }
  });

  // Appeal countdowns (views/appeals.templ, Countdown): the server renders
  // the time left; this counts it down every second from the server's time
  // (data-server-now) to the closing instant (data-closes), on the
  // browser's monotonic clock, so a wrong clock on this computer does not
  // matter. The server still decides, at its own clock, whether a filing is
  // in time.
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function startCountdown(el) {
    var closes = Date.parse(el.getAttribute("data-closes"));
    var serverNow = Date.parse(el.getAttribute("data-server-now"));
    var format = el.getAttribute("data-format") || "";
    var closedText = el.getAttribute("data-closed-text") || "";
    if (isNaN(closes) || isNaN(serverNow) || !format) { return; }
    var loaded = performance.now();
    var timer = null;
    function tick() {
      var left = Math.floor((closes - serverNow - (performance.now() - loaded)) / 1000);
      if (left <= 0) {
        el.textContent = closedText;
        el.setAttribute("data-remaining", "0");
        if (timer !== null) { clearInterval(timer); }
        return;
      }
      el.setAttribute("data-remaining", String(left));
      el.textContent = format.replace("{d}", String(Math.floor(left / 86400)))
        .replace("{h}", pad(Math.floor(left % 86400 / 3600)))
        .replace("{m}", pad(Math.floor(left % 3600 / 60)))
        .replace("{s}", pad(left % 60));
    }
    tick();
    timer = setInterval(tick, 1000);
  }

  // The print button of an appeal's acknowledgement: hidden without JavaScript.
  function enablePrint(btn) {
    btn.hidden = false;
    btn.addEventListener("click", function () { window.print(); });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-countdown]"), startCountdown);
    Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), enablePrint);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
