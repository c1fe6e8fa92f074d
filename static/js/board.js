// The dispatch board: SLA clocks that keep counting between refreshes (no requests), and a
// live refresh that waits while the supervisor is picking a worker or typing a reason, so a
// change elsewhere never wipes a half-made choice.
(function () {
  "use strict";
  var HOLD_MS = 15000;     // an untouched half-made choice stops holding the board back after this
  var lastTouch = 0;
  var pending = false;
  var skew = 0;            // server clock minus this screen's clock

  function board() { return document.getElementById("board"); }

  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_m, key) { return String(values[key]); });
  }

  function duration(el, minutes) {
    var m = Math.abs(minutes);
    return m >= 60 ? fmt(el.getAttribute("data-fmt-hmin"), {h: Math.floor(m / 60), m: m % 60})
                   : fmt(el.getAttribute("data-fmt-min"), {m: m});
  }

  function tick() {
    var root = board();
    if (!root) { return; }
    var now = Date.now() + skew;
    var overdue = 0;
    root.querySelectorAll(".clock[data-due]").forEach(function (clock) {
      var left = Math.floor((Date.parse(clock.getAttribute("data-due")) - now) / 60000);
      var late = left < 0;
      var text = fmt(root.getAttribute(late ? "data-fmt-overdue" : "data-fmt-left"),
                     {time: duration(root, left)});
      if (clock.textContent !== text) { clock.textContent = text; }
      clock.classList.toggle("overdue", late);
      clock.classList.toggle("soon", !late && left < 30);
      var card = clock.closest(".slip-card");
      if (card) { card.classList.toggle("overdue", late); }
      if (late) { overdue += 1; }
    });
    var count = root.querySelector("[data-overdue-count]");
    if (count && count.textContent !== String(overdue)) { count.textContent = String(overdue); }
  }

  function syncClock() {
    var root = board();
    var server = root && Date.parse(root.getAttribute("data-now"));
    if (server) { skew = server - Date.now(); }
    tick();
  }

  // Busy: focus sits in a field of the board, touched in the last few seconds.
  function busy() {
    var root = board();
    var el = document.activeElement;
    return !!(root && el && el !== root && root.contains(el) &&
              el.matches("select, input, textarea, summary") &&
              Date.now() - lastTouch < HOLD_MS);
  }

  function refreshIfPending() {
    if (pending && !busy()) {
      pending = false;
      if (window.htmx && board()) { window.htmx.trigger(document.body, "live-changed"); }
    }
  }

  ["pointerdown", "keydown", "input", "change"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var root = board();
      if (root && root.contains(event.target)) { lastTouch = Date.now(); }
    }, true);
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    // Only the board's own live refresh (a GET from the board element) may be held back.
    if (event.detail.elt === board() && event.detail.requestConfig &&
        event.detail.requestConfig.verb === "get" && busy()) {
      event.preventDefault();
      pending = true;
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "board") { pending = false; }
  });
  document.addEventListener("htmx:afterSettle", function () {
    syncClock();
    // "Slip … dispatched" has been read after a while; a refusal stays until the next action.
    var done = document.querySelector("#board-note .alert.success:not([data-fading])");
    if (done) {
      done.setAttribute("data-fading", "1");
      window.setTimeout(function () { if (done.parentNode) { done.parentNode.removeChild(done); } }, 20000);
    }
  });
  document.addEventListener("focusout", function () { window.setTimeout(refreshIfPending, 50); });

  window.setInterval(function () { tick(); refreshIfPending(); }, 2000);
  syncClock();
})();
