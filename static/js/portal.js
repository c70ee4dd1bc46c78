// The portal works without JavaScript; this file only adds small comforts.
// It is served from 'self', as the Content-Security-Policy requires.
(function () {
  "use strict";
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

  // Error summaries (views/form.templ, ErrorSummary): each entry names its
  // field's label before the message, the entries follow the fields' order
  // on the page, a click puts the focus in the field, and the first summary
  // takes the focus when the page loads, so that it is read out first.
  function labelOf(field) {
    var label = document.querySelector('label[for="' + field.id.replace(/"/g, '\\"') + '"]');
    var text = field.getAttribute("aria-label") || "";
    if (label) {
      label = label.cloneNode(true);
      Array.prototype.forEach.call(label.querySelectorAll(".sr-only, [aria-hidden]"), function (n) { n.remove(); });
      text = label.textContent;
    }
    if (!text) {
      var legend = field.closest("fieldset") && field.closest("fieldset").querySelector("legend");
      text = legend ? legend.textContent : "";
    }
    return text.replace(/\*/g, "").replace(/\s+/g, " ").trim();
  }
  function enhanceSummary(summary, index) {
    var list = summary.querySelector("ul");
    var items = Array.prototype.slice.call(summary.querySelectorAll("li"));
    items.forEach(function (li) {
      var a = li.querySelector("a[data-field]");
      // The field itself, or its message when the error is about a group of fields.
      var field = a && (document.getElementById(a.getAttribute("data-field")) ||
        document.getElementById(a.getAttribute("data-field") + "-error"));
      li._field = field;
      if (!field) { return; }
      var label = labelOf(field);
      if (label && a.textContent.indexOf(label) !== 0) {
        var span = document.createElement("span");
        span.className = "portal-error-label";
        span.textContent = label + ": ";
        a.insertBefore(span, a.firstChild);
      }
      a.addEventListener("click", function (e) {
        e.preventDefault();
        if (!field.hasAttribute("tabindex") && field.tabIndex < 0) { field.setAttribute("tabindex", "-1"); }
        field.focus();
        field.scrollIntoView({ block: "center" });
      });
    });
    items.sort(function (x, y) {
      if (!x._field || !y._field) { return 0; }
      return x._field.compareDocumentPosition(y._field) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
    });
    items.forEach(function (li) { list.appendChild(li); });
    if (index === 0) { summary.focus(); }
  }

  // The warning before the session ends (views/session.templ): shown
  // data-warn-seconds before data-ends, counted on this browser's monotonic
  // clock from the server's time when the page was made. Only the user's
  // press on "stay signed in" renews the session (a POST with the CSRF
  // header); nothing here keeps it alive by itself.
  function startSessionWarning(el) {
    var box = el.querySelector("[data-session-box]");
    var left = el.querySelector("[data-session-left]");
    var format = left ? left.getAttribute("data-format") || "" : "";
    var keep = el.querySelector("[data-session-keepalive]");
    var ends = Date.parse(el.getAttribute("data-ends"));
    var serverNow = Date.parse(el.getAttribute("data-server-now"));
    var warn = parseInt(el.getAttribute("data-warn-seconds"), 10) * 1000;
    if (!box || isNaN(ends) || isNaN(serverNow) || isNaN(warn)) { return; }
    var loaded = performance.now();
    var timer = null;
    var dismissed = false;
    function show(part) {
      ["data-session-soon", "data-session-ended", "data-session-renewed", "data-session-failed"].forEach(function (a) {
        var p = el.querySelector("[" + a + "]");
        if (p) { p.hidden = a !== part; }
      });
    }
    function tick() {
      var ms = ends - serverNow - (performance.now() - loaded);
      if (ms <= 0) {
        show("data-session-ended");
        if (keep) { keep.hidden = true; }
        box.hidden = false;
        clearInterval(timer);
        return;
      }
      if (ms <= warn && !dismissed) {
        var s = Math.ceil(ms / 1000);
        if (left) { left.textContent = format.replace("{m}", String(Math.floor(s / 60))).replace("{s}", String(s % 60)); }
        if (box.hidden) {
          show("data-session-soon");
          box.hidden = false;
        }
      }
    }
    function restart(state) {
      ends = Date.parse(state.ends);
      serverNow = Date.parse(state.server_now);
      loaded = performance.now();
      dismissed = false;
    }
    if (keep) {
      keep.addEventListener("click", function () {
        var meta = document.querySelector('meta[name="csrf-token"]');
        keep.disabled = true;
        fetch("/auth/keepalive", {
          method: "POST", credentials: "same-origin",
          headers: { "X-CSRF-Token": meta ? meta.getAttribute("content") : "", "Accept": "application/json" }
        }).then(function (r) {
          if (!r.ok) { throw new Error("keep-alive: " + r.status); }
          return r.json();
        }).then(function (state) {
          restart(state);
          show("data-session-renewed");
          keep.disabled = false;
          setTimeout(function () { if (!dismissed) { box.hidden = true; } }, 3000);
        }).catch(function () {
          show("data-session-failed");
          keep.hidden = true;
        });
      });
    }
    var close = el.querySelector("[data-session-dismiss]");
    if (close) {
      close.addEventListener("click", function () { dismissed = true; box.hidden = true; });
    }
    tick();
    timer = setInterval(tick, 1000);
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

  // A part of a page that is made for each visit (telemetry, which no
  // cached page shows): fetched and put in place of its link, which stays
  // when the request fails.
  function loadFragment(el) {
    fetch(el.getAttribute("data-fragment"), { credentials: "same-origin", headers: { "X-Portal-Fragment": "1" } })
      .then(function (r) {
        if (!r.ok) { throw new Error("status " + r.status); }
        return r.text();
      })
      .then(function (html) { el.innerHTML = html; })
      .catch(function () {});
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-fragment]"), loadFragment);
    Array.prototype.forEach.call(document.querySelectorAll("[data-countdown]"), startCountdown);
    Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), enablePrint);
    Array.prototype.forEach.call(document.querySelectorAll("[data-error-summary]"), enhanceSummary);
    Array.prototype.forEach.call(document.querySelectorAll("[data-session-warning]"), startSessionWarning);
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
