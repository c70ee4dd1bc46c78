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

  // The navigation below 1024 px (views/layout.templ, KRDS mobile menu):
  // the menu button opens it as a panel and moves focus to its first link;
  // Tab stays inside while it is open; Escape, the close button or a click
  // beside it closes it and gives focus back to the menu button.
  function initMenu(btn) {
    var nav = document.getElementById(btn.getAttribute("aria-controls"));
    if (!nav) { return; }
    var closeBtn = nav.querySelector("[data-menu-close]");
    var backdrop = document.querySelector("[data-menu-backdrop]");
    var wide = window.matchMedia("(min-width: 1024px)");
    function isOpen() { return nav.classList.contains("is-open"); }
    function open() {
      nav.classList.add("is-open");
      btn.setAttribute("aria-expanded", "true");
      if (backdrop) { backdrop.hidden = false; }
      document.documentElement.classList.add("is-gnb-mobile");
      var first = nav.querySelector(".gnb-menu a");
      (first || closeBtn || nav).focus();
    }
    function close(giveFocusBack) {
      if (!isOpen()) { return; }
      nav.classList.remove("is-open");
      btn.setAttribute("aria-expanded", "false");
      if (backdrop) { backdrop.hidden = true; }
      document.documentElement.classList.remove("is-gnb-mobile");
      if (giveFocusBack) { btn.focus(); }
    }
    btn.addEventListener("click", function () {
      if (isOpen()) { close(true); } else { open(); }
    });
    if (closeBtn) { closeBtn.addEventListener("click", function () { close(true); }); }
    if (backdrop) { backdrop.addEventListener("click", function () { close(true); }); }
    document.addEventListener("keydown", function (e) {
      if (!isOpen() || wide.matches) { return; }
      if (e.key === "Escape") {
        e.preventDefault();
        close(true);
      } else if (e.key === "Tab") {
        var items = nav.querySelectorAll("a[href], button:not([disabled])");
        if (items.length === 0) { return; }
        var first = items[0], last = items[items.length - 1];
        if (e.shiftKey && (document.activeElement === first || !nav.contains(document.activeElement))) {
          e.preventDefault();
          last.focus();
        } else if (!e.shiftKey && (document.activeElement === last || !nav.contains(document.activeElement))) {
          e.preventDefault();
          first.focus();
        }
      }
    });
    // Widening the window past the breakpoint shows the menu bar: the panel is done.
    var onWide = function (e) { if (e.matches) { close(false); } };
    if (wide.addEventListener) { wide.addEventListener("change", onWide); } else { wide.addListener(onWide); }
  }

  // Keeping typed input across a language switch. The switch is a POST to
  // /lang that returns to this page (or, on a form shown again after a
  // POST, to the page of that form: Page.Here); the page is rendered anew
  // in the other language. Before it goes, what the visitor has typed into
  // the page's forms is kept in this tab's sessionStorage, keyed by each
  // form's action, and put back into the same forms when the page returns.
  // Hidden fields (the CSRF token), files and passwords are never kept, and
  // the copy is removed as soon as the next page has read it.
  var keepKey = "portal.keep";
  function keptFields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      if (!el.name || el.name.charAt(0) === "_" || el.disabled) { return false; }
      var type = (el.type || "").toLowerCase();
      return ["hidden", "file", "password", "submit", "button", "reset", "image"].indexOf(type) < 0 &&
        /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName);
    });
  }
  function formKey(form, index) {
    return (form.getAttribute("method") || "get").toLowerCase() + " " + (form.getAttribute("action") || "") + " #" + index;
  }
  function pageForms() {
    var counts = {};
    return Array.prototype.filter.call(document.querySelectorAll("main form"), function (f) {
      return !f.hasAttribute("data-no-keep");
    }).map(function (f) {
      var base = formKey(f, 0);
      counts[base] = (counts[base] || 0) + 1;
      return { form: f, key: formKey(f, counts[base] - 1) };
    });
  }
  function keepInput() {
    var kept = {};
    var any = false;
    pageForms().forEach(function (pf) {
      var fields = keptFields(pf.form).map(function (el) {
        if (el.type === "checkbox" || el.type === "radio") { return [el.name, el.value, el.checked]; }
        if (el.tagName === "SELECT" && el.multiple) {
          return [el.name, Array.prototype.filter.call(el.options, function (o) { return o.selected; })
            .map(function (o) { return o.value; }), null];
        }
        return [el.name, el.value, null];
      });
      if (fields.length > 0) { kept[pf.key] = fields; any = true; }
    });
    try {
      if (any) {
        sessionStorage.setItem(keepKey, JSON.stringify({ at: Date.now(), forms: kept }));
      } else {
        sessionStorage.removeItem(keepKey);
      }
    } catch (e) { /* storage refused (private mode, quota): the switch goes on without it */ }
  }
  function restoreInput() {
    var raw = null;
    try {
      raw = sessionStorage.getItem(keepKey);
      sessionStorage.removeItem(keepKey);
    } catch (e) { return; }
    if (!raw) { return; }
    var kept;
    try { kept = JSON.parse(raw); } catch (e) { return; }
    if (!kept || !kept.forms || Date.now() - kept.at > 10 * 60 * 1000) { return; }
    pageForms().forEach(function (pf) {
      var fields = kept.forms[pf.key];
      if (!fields) { return; }
      var els = keptFields(pf.form);
      var used = {};
      els.forEach(function (el) {
        // The n-th field of a name takes the n-th kept value of that name.
        var n = used[el.name] || 0;
        used[el.name] = n + 1;
        var same = fields.filter(function (f) { return f[0] === el.name; });
        var f = same[n];
        if (!f) { return; }
        if (el.type === "checkbox" || el.type === "radio") {
          // Matched by value, not by position: the other language lists the same choices.
          var hit = same.filter(function (k) { return k[1] === el.value; })[0];
          if (hit) { el.checked = hit[2]; }
        } else if (el.tagName === "SELECT" && el.multiple) {
          Array.prototype.forEach.call(el.options, function (o) { o.selected = f[1].indexOf(o.value) >= 0; });
        } else {
          el.value = f[1];
        }
        el.dispatchEvent(new Event("input", { bubbles: true }));
        el.dispatchEvent(new Event("change", { bubbles: true }));
      });
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-countdown]"), startCountdown);
    Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), enablePrint);
    Array.prototype.forEach.call(document.querySelectorAll("[data-menu-open]"), initMenu);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-lang-switch]"), function (f) {
      f.addEventListener("submit", keepInput);
    });
    restoreInput();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
