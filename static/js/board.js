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
    alarms(root, now);
  }

  // An urgent call nobody has been sent to: its alarm shows when its time comes (the server
  // says when, for this person: the on-duty supervisor first), rings once when it is new and
  // again every minute while one is up, unless the sound is turned off on this screen.
  var RING_EVERY_MS = 60000;
  var rung = {};
  var lastRing = 0;
  var audio = null;

  function soundOn() { return window.localStorage.getItem("board-sound") !== "off"; }

  function ring() {
    lastRing = Date.now();
    if (!soundOn()) { return; }
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") { audio.resume(); }
      [0, 0.35].forEach(function (delay) {
        var tone = audio.createOscillator();
        var gain = audio.createGain();
        var at = audio.currentTime + delay;
        tone.frequency.value = 880;
        gain.gain.setValueAtTime(0.25, at);
        gain.gain.exponentialRampToValueAtTime(0.001, at + 0.3);
        tone.connect(gain);
        gain.connect(audio.destination);
        tone.start(at);
        tone.stop(at + 0.3);
      });
    } catch (_e) { /* no sound on this screen: the alarm still shows */ }
  }

  function alarms(root, now) {
    var up = 0;
    var fresh = false;
    root.querySelectorAll("[data-alarm-at]").forEach(function (alarm) {
      if (now < Date.parse(alarm.getAttribute("data-alarm-at"))) { return; }
      alarm.hidden = false;
      up += 1;
      var slip = alarm.getAttribute("data-alarm-slip");
      if (!rung[slip]) { rung[slip] = true; fresh = true; }
    });
    root.classList.toggle("alarmed", up > 0);
    if (fresh || (up && Date.now() - lastRing >= RING_EVERY_MS)) { ring(); }
    var toggle = root.querySelector("[data-sound-toggle]");
    if (toggle) {
      var on = soundOn();
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      var label = toggle.getAttribute(on ? "data-label-on" : "data-label-off");
      if (toggle.textContent !== label) { toggle.textContent = label; }
    }
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("[data-sound-toggle]");
    if (!toggle) { return; }
    window.localStorage.setItem("board-sound", soundOn() ? "off" : "on");
    tick();
  });
  // Browsers let a page make sound only after a touch: the first one on the board unlocks it.
  document.addEventListener("pointerdown", function () {
    if (audio && audio.state === "suspended") { audio.resume(); }
  }, true);

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

  // One request of the board at a time, and none is cut short. With hx-sync="this:replace"
  // the live refresh that an action's own change sets off aborted the action's request, and
  // its answer (the note saying how it went, or why it was refused) was lost. So a refresh
  // waits while an action or another refresh is on its way; an action tapped while a refresh
  // is on its way goes the moment that refresh is back (which is then not swapped in: the
  // action's answer is the board as it is). Decided at htmx:confirm, before hx-sync acts.
  var running = null;    // {xhr, action, at}: the board's request on its way
  var deferred = null;   // an action tapped meanwhile: htmx's own "send it now"

  function stillRunning() {
    if (running && Date.now() - running.at > 30000) { running = null; }  // never heard back
    return running;
  }

  document.addEventListener("htmx:confirm", function (event) {
    var root = board();
    var d = event.detail;
    if (!root || !root.contains(d.elt)) { return; }
    if (d.elt === root && d.verb === "get") {   // the live refresh
      if (busy() || stillRunning() || deferred) {
        event.preventDefault();
        pending = true;
      }
      return;
    }
    if (stillRunning() && running.action) {      // a second tap while the first is on its way
      event.preventDefault();
    } else if (stillRunning() || deferred) {
      event.preventDefault();
      deferred = d.issueRequest;
    }
  });
  document.addEventListener("htmx:beforeSend", function (event) {
    var root = board();
    var d = event.detail;
    if (root && root.contains(d.elt) && d.requestConfig) {
      running = {xhr: d.xhr, action: d.requestConfig.verb !== "get", at: Date.now()};
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var d = event.detail;
    if (deferred && d.elt === board() && d.requestConfig && d.requestConfig.verb === "get") {
      d.shouldSwap = false;
      pending = true;
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!running || event.detail.xhr !== running.xhr) { return; }
    running = null;
    var next = deferred;
    deferred = null;
    if (next) { next(); } else { window.setTimeout(refreshIfPending, 0); }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    // A refresh brings the board up to date; an action's answer may predate a later change.
    var d = event.detail;
    if (d.target && d.target.id === "board" && d.requestConfig && d.requestConfig.verb === "get") {
      pending = false;
    }
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
