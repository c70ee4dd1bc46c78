// GPU telemetry charts of an allocation page (views/gpus.templ), drawn with
// uPlot (static/vendor/uplot). Everything the script needs is on the
// container's data-* attributes: the series URL, the time zone and the
// labels in the page's language. The data comes from
// GET /allocations/:id/series as parallel arrays, null where nothing was
// observed, which uPlot draws as gaps. Drag to zoom (all three charts
// follow), double-click to zoom out.
(function () {
  "use strict";

  var colours = { util: "#256ef4", power: "#d0661e", memory: "#228738" };
  var height = 220;
  // The page's own font (static/vendor/pretendard-gov), also on the canvas.
  var font = "12px 'Pretendard GOV Variable', system-ui, sans-serif";

  function fmt(digits) {
    return function (u, v) {
      return v == null ? "—" : v.toLocaleString(undefined, { maximumFractionDigits: digits });
    };
  }

  // timeFormats returns the tick and legend formatters of the time axis in
  // the given time zone, as numbers that read the same in every language:
  // "11-27 14:00" (ticks), "2026-11-27 14:00 KST" (legend); dates only for
  // daily data.
  function timeFormats(tz, step) {
    var daily = step >= 86400;
    var parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    });
    var fields = function (ts) {
      var f = {};
      parts.formatToParts(new Date(ts * 1e3)).forEach(function (p) { f[p.type] = p.value; });
      return f;
    };
    return {
      tick: function (u, splits) {
        return splits.map(function (ts) {
          var f = fields(ts);
          return daily ? f.month + "-" + f.day : f.month + "-" + f.day + " " + f.hour + ":" + f.minute;
        });
      },
      legend: function (u, ts) {
        if (ts == null) {
          return "—";
        }
        var f = fields(ts);
        var date = f.year + "-" + f.month + "-" + f.day;
        return daily ? date : date + " " + f.hour + ":" + f.minute + " KST";
      }
    };
  }

  function status(box, state, text) {
    box.setAttribute("data-state", state);
    var el = box.querySelector("[data-testid=chart-status]");
    if (!el) {
      return;
    }
    el.textContent = text || "";
    el.hidden = !text;
  }

  function draw(box, data) {
    var tz = box.getAttribute("data-tz") || "Asia/Seoul";
    var times = timeFormats(tz, data.step);
    var charts = [];
    var syncing = false;
    var zoomAll = function (u, key) {
      if (key !== "x" || syncing) {
        return;
      }
      syncing = true;
      var min = u.scales.x.min;
      var max = u.scales.x.max;
      charts.forEach(function (other) {
        if (other !== u && (other.scales.x.min !== min || other.scales.x.max !== max)) {
          other.setScale("x", { min: min, max: max });
        }
      });
      syncing = false;
    };
    ["util", "power", "memory"].forEach(function (name) {
      var target = box.querySelector('[data-chart="' + name + '"]');
      if (!target) {
        return;
      }
      var label = box.getAttribute("data-label-" + name) || name;
      var opts = {
        width: Math.max(target.clientWidth, 280),
        height: height,
        tzDate: function (ts) {
          return uPlot.tzDate(new Date(ts * 1e3), tz);
        },
        cursor: { sync: { key: "allocation-" + data.allocation }, drag: { x: true, y: false } },
        scales: { x: { time: true }, y: name === "util" ? { range: [0, 100] } : { auto: true } },
        series: [
          { label: box.getAttribute("data-label-time") || "", value: times.legend },
          { label: label, stroke: colours[name], width: 2, spanGaps: false, value: fmt(name === "util" ? 1 : 0) }
        ],
        axes: [{ values: times.tick, space: 80, font: font }, { size: 70, font: font }],
        hooks: { setScale: [zoomAll] }
      };
      charts.push(new uPlot(opts, [data.t, data[name]], target));
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (u) {
        u.setSize({ width: Math.max(u.root.parentNode.clientWidth, 280), height: height });
      });
    });
    box.setAttribute("data-points", String(data.points));
    box.setAttribute("data-step", String(data.step));
  }

  function load(box) {
    var url = box.getAttribute("data-series-url");
    if (!url || typeof uPlot === "undefined") {
      status(box, "error", box.getAttribute("data-msg-error"));
      return;
    }
    status(box, "loading", box.getAttribute("data-msg-loading"));
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) {
          throw new Error("HTTP " + r.status);
        }
        return r.json();
      })
      .then(function (data) {
        // The canvas uses the web font only once it has loaded.
        return (document.fonts ? document.fonts.ready : Promise.resolve()).then(function () { return data; });
      })
      .then(function (data) {
        draw(box, data);
        status(box, "ready", data.points > 0 ? "" : box.getAttribute("data-msg-empty"));
      })
      .catch(function () {
        status(box, "error", box.getAttribute("data-msg-error"));
      });
  }

  function start() {
    var boxes = document.querySelectorAll("[data-series-url]");
    for (var i = 0; i < boxes.length; i++) {
      load(boxes[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
