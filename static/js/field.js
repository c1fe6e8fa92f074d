// The worker's phone: actions that survive a dead zone, the signature pad, the fee form.
//
// Poor signal. A job's action forms (form[data-queue]) are sent with fetch. When the phone
// is offline, or the request fails or times out, the action is kept in localStorage, shown
// as "pending" on the job and on the list, and sent again when the connection returns (the
// "online" event, and a retry timer). Each form carries a request key made by the server;
// the server applies a key once and answers a resend with success, so a double send changes
// nothing. A server that answers (even with a refusal) ends the wait: the answer is shown,
// with the time the action was sent.
(function () {
  "use strict";
  if (window.psdField) { window.psdField.init(document); return; }  // loaded twice: no-op

  var QUEUE = "psd.field.queue";
  var SENT = "psd.field.sent";
  var RETRY_MS = 8000;
  var TIMEOUT_MS = 20000;
  var KEEP_SENT_MS = 12 * 3600 * 1000;
  var sending = false;

  function texts() {
    var el = document.getElementById("field-texts");
    return el ? el.dataset : {};
  }

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (m, k) {
      return values[k] !== undefined ? values[k] : m;
    });
  }

  function load(name) {
    try {
      var value = JSON.parse(window.localStorage.getItem(name) || "[]");
      return Array.isArray(value) ? value : [];
    } catch (e) { return []; }
  }

  function save(name, list) {
    try { window.localStorage.setItem(name, JSON.stringify(list)); } catch (e) { /* full */ }
  }

  // Times as the office shows them: in the property's time zone, whatever the phone's is.
  function hhmm(ms) {
    var zone = texts().timeZone;
    try {
      return new Intl.DateTimeFormat("en-GB", {hour: "2-digit", minute: "2-digit", hour12: false,
                                               timeZone: zone || undefined}).format(new Date(ms));
    } catch (e) {
      var d = new Date(ms);
      return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
    }
  }

  // ---- the queue -------------------------------------------------------------------------

  function enqueue(entry) {
    var queue = load(QUEUE);
    if (!queue.some(function (e) { return e.key === entry.key; })) {
      entry.queuedAt = Date.now();
      queue.push(entry);
      save(QUEUE, queue);
    }
    marks();
  }

  function dequeue(key) {
    save(QUEUE, load(QUEUE).filter(function (e) { return e.key !== key; }));
  }

  function remember(entry, ok, message) {
    var now = Date.now();
    var sent = load(SENT).filter(function (e) {
      return now - e.sentAt < KEEP_SENT_MS && e.key !== entry.key;
    });
    sent.push({key: entry.key, number: entry.number, label: entry.label,
               tappedAt: entry.tappedAt, sentAt: now, ok: ok, message: message || ""});
    save(SENT, sent.slice(-30));
  }

  function isLogin(resp) {
    var login = texts().loginUrl;
    if (!login || !resp.redirected) { return false; }
    try { return new URL(resp.url).pathname === new URL(login, window.location.href).pathname; }
    catch (e) { return false; }
  }

  function refusal(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var el = doc.querySelector("#job .alert.error, .error-page p, .alert.error, p.error");
    return el ? el.textContent.replace(/\s+/g, " ").trim() : "";
  }

  // Send one action. Resolves true when the server answered (whatever it said).
  function send(entry, direct) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    return window.fetch(entry.url, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      body: new URLSearchParams(entry.fields),
      headers: {"Accept": "text/html"},
      signal: controller ? controller.signal : undefined
    }).then(function (resp) {
      return resp.text().then(function (html) { return {resp: resp, html: html}; });
    }).then(function (r) {
      window.clearTimeout(timer);
      if (r.resp.status >= 502 && r.resp.status <= 504) { throw new Error("gateway"); }
      if (isLogin(r.resp)) {  // signed out meanwhile: keep it until the worker signs in
        enqueue(entry);
        note(entry.number, "refused", entry.label + ": " + texts().signedOut);
        return false;
      }
      var wasQueued = load(QUEUE).some(function (e) { return e.key === entry.key; });
      dequeue(entry.key);
      if (wasQueued || !direct) {
        remember(entry, r.resp.ok, r.resp.ok ? "" : refusal(r.html));
      }
      var job = document.querySelector("#job[data-slip]");
      if (direct || (job && job.dataset.slip === entry.number)) {
        swapMain(r.html, r.resp.url);
      } else {
        marks();
        if (window.htmx) { window.htmx.trigger(document.body, "live-changed"); }
      }
      return true;
    }).catch(function () {
      window.clearTimeout(timer);
      enqueue(entry);  // no answer: keep it (a resend is harmless, the key is the same)
      return false;
    });
  }

  // One sender at a time, across every open tab of the app (Web Locks where the browser has
  // them): a second tab finds the queue already emptied instead of sending the tap again.
  function flush() {
    if (sending || !navigator.onLine || !load(QUEUE).length) { return; }
    sending = true;
    function run() {
      var queue = load(QUEUE);
      if (!queue.length) { return Promise.resolve(false); }
      note(queue[0].number, "sending", queue[0].label + ": " + (texts().sending || "…"));
      return send(queue[0], false);
    }
    var done = navigator.locks ? navigator.locks.request("psd-field-queue", run) : run();
    done.then(function (answered) {
      sending = false;
      marks();
      if (answered && load(QUEUE).length) { window.setTimeout(flush, 0); }
    }, function () { sending = false; });
  }

  // ---- showing it ------------------------------------------------------------------------

  function note(number, kind, text) {
    document.querySelectorAll("[data-pending-for]").forEach(function (slot) {
      if (slot.dataset.pendingFor !== number) { return; }
      slot.replaceChildren();
      var p = document.createElement("span");
      p.className = "pending-note " + kind;
      p.textContent = text;
      slot.appendChild(p);
    });
  }

  function marks() {
    var t = texts();
    var queue = load(QUEUE);
    var now = Date.now();
    var sent = load(SENT).filter(function (e) { return now - e.sentAt < KEEP_SENT_MS; });
    document.querySelectorAll("[data-pending-for]").forEach(function (slot) {
      var number = slot.dataset.pendingFor;
      var pending = queue.filter(function (e) { return e.number === number; });
      var done = sent.filter(function (e) { return e.number === number; }).slice(-1);
      slot.replaceChildren();
      pending.forEach(function (e) {
        add(slot, "pending", e.label + ": " + t.pending + " (" + fill(t.tapped, {time: hhmm(e.tappedAt)}) + ")");
      });
      if (!pending.length) {
        done.forEach(function (e) {
          add(slot, e.ok ? "sent" : "refused", e.label + ": " + (e.ok
            ? fill(t.sent, {time: hhmm(e.sentAt)}) + " (" + fill(t.tapped, {time: hhmm(e.tappedAt)}) + ")"
            : fill(t.refused, {reason: e.message})));
        });
      }
      var job = slot.closest("#job");
      if (job) { job.classList.toggle("has-pending", pending.length > 0); }
    });
  }

  function add(slot, kind, text) {
    var p = document.createElement("span");
    p.className = "pending-note " + kind;
    p.setAttribute("role", "status");
    p.textContent = text;
    slot.appendChild(p);
  }

  // The server's answer to a tap: its <main> replaces ours (flash message, new state, errors).
  function swapMain(html, url) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("main");
    var main = document.getElementById("main");
    if (!fresh || !main) { window.location.assign(url); return; }
    fresh.querySelectorAll("script").forEach(function (s) { s.remove(); });
    main.replaceChildren.apply(main, Array.prototype.map.call(fresh.childNodes, function (n) {
      return document.importNode(n, true);
    }));
    if (doc.title) { document.title = doc.title; }
    if (url && url !== window.location.href) { window.history.replaceState(null, "", url); }
    if (window.htmx) { window.htmx.process(main); }
    init(main);
    var first = main.querySelector(".alert.error, .has-error, .flashes .alert");
    if (first) { first.scrollIntoView({block: "center"}); } else { window.scrollTo(0, 0); }
  }

  // ---- taps ------------------------------------------------------------------------------

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented) { return; }
    if (form.classList.contains("photo-form")) { photoSubmit(event, form); return; }
    if (!form.hasAttribute("data-queue")) { return; }
    event.preventDefault();
    var fields = [];
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string") { fields.push([name, value]); }
    });
    var key = form.elements.request_key ? form.elements.request_key.value : String(Date.now());
    var entry = {key: key, url: form.action, number: form.dataset.slip,
                 label: form.dataset.queue, fields: fields, tappedAt: Date.now()};
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    if (!navigator.onLine) { enqueue(entry); return; }
    send(entry, true).then(function (answered) {
      if (!answered) {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
      }
    });
  });

  function photoSubmit(event, form) {
    var t = texts();
    var input = form.querySelector("input[type=file]");
    var max = parseInt(form.dataset.maxBytes || "0", 10);
    var message = null;
    if (!navigator.onLine) {
      message = t.photoOffline;
    } else if (input && input.files && input.files[0] && max && input.files[0].size > max) {
      message = fill(t.photoTooBig, {mb: (max / 1048576).toFixed(0)});
    }
    var box = form.querySelector(".photo-message");
    if (!message) { if (box) { box.remove(); } return; }
    event.preventDefault();
    if (!box) {
      box = document.createElement("p");
      box.className = "error photo-message";
      box.setAttribute("role", "alert");
      form.insertBefore(box, form.querySelector("button[type=submit]"));
    }
    box.textContent = message;
  }

  // ---- the signature pad -----------------------------------------------------------------

  function initPad(pad) {
    if (pad.dataset.ready) { return; }
    pad.dataset.ready = "1";
    var canvas = pad.querySelector("canvas");
    var form = pad.closest("form");
    var input = form.querySelector("input.signature-data");
    var clear = form.querySelector(".signature-clear");
    var ctx = canvas.getContext("2d");
    var drawing = false;
    var last = null;

    function size() {
      var r = canvas.getBoundingClientRect();
      var dpr = Math.min(window.devicePixelRatio || 1, 2);
      canvas.width = Math.max(1, Math.round(r.width * dpr));
      canvas.height = Math.max(1, Math.round(r.height * dpr));
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.lineWidth = 2.6;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111";
      ctx.fillStyle = "#111";
      if (input.value) {  // back from a form error, or the phone turned: draw it again
        var img = new Image();
        img.onload = function () { ctx.drawImage(img, 0, 0, r.width, r.height); };
        img.src = input.value;
        pad.classList.add("signed");
      }
    }
    function pos(e) {
      var r = canvas.getBoundingClientRect();
      return {x: e.clientX - r.left, y: e.clientY - r.top};
    }
    canvas.addEventListener("pointerdown", function (e) {
      e.preventDefault();
      if (canvas.setPointerCapture) { canvas.setPointerCapture(e.pointerId); }
      drawing = true;
      last = pos(e);
      ctx.beginPath();
      ctx.arc(last.x, last.y, ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
    });
    canvas.addEventListener("pointermove", function (e) {
      if (!drawing) { return; }
      e.preventDefault();
      var events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
      (events.length ? events : [e]).forEach(function (ev) {
        var p = pos(ev);
        ctx.beginPath();
        ctx.moveTo(last.x, last.y);
        ctx.lineTo(p.x, p.y);
        ctx.stroke();
        last = p;
      });
    });
    function end() {
      if (!drawing) { return; }
      drawing = false;
      input.value = canvas.toDataURL("image/png");
      pad.classList.add("signed");
      var box = pad.closest(".signature-field");  // an old "must sign" message no longer holds
      if (box) {
        box.classList.remove("has-error");
        box.querySelectorAll(".error").forEach(function (e) { e.remove(); });
      }
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("pointerleave", end);
    clear.addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      input.value = "";
      pad.classList.remove("signed");
    });
    window.addEventListener("resize", function () { if (!drawing && canvas.isConnected) { size(); } });
    size();
  }

  // ---- the fee form: says at once when a price needs the supervisor ---------------------

  function fen(text) {
    var m = /^\s*[¥￥]?\s*(\d{1,9})(?:\.(\d{0,2}))?\s*$/.exec(text || "");
    if (!m) { return null; }
    return parseInt(m[1], 10) * 100 + parseInt(((m[2] || "") + "00").slice(0, 2), 10);
  }

  function yuan(f) {
    var whole = Math.floor(f / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return "¥" + whole + "." + ("0" + (f % 100)).slice(-2);
  }

  function feeForm(form) {
    var total = 0;
    var known = true;
    form.querySelectorAll("li[data-qty]").forEach(function (li) {
      var qty = parseInt(li.dataset.qty, 10);
      var input = li.querySelector("input[data-min]");
      var price = input ? fen(input.value) : parseInt(li.dataset.price, 10);
      if (input) {
        var lo = input.dataset.min === "" ? null : parseInt(input.dataset.min, 10);
        var hi = input.dataset.max === "" ? null : parseInt(input.dataset.max, 10);
        var outside = price !== null && (lo === null || hi === null || price < lo || price > hi);
        var hint = li.querySelector(".outside-hint");
        if (hint) { hint.hidden = !outside; }
      }
      if (price === null || isNaN(price)) { known = false; } else { total += price * qty; }
    });
    var out = form.querySelector(".fee-total .amount");
    if (out) { out.textContent = known ? yuan(total) : "—"; }
  }

  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("form.fee-form");
    if (form) { feeForm(form); }
  });

  // ---- wiring ------------------------------------------------------------------------------

  function init(root) {
    (root || document).querySelectorAll(".signature-pad").forEach(initPad);
    (root || document).querySelectorAll("form.fee-form").forEach(feeForm);
    marks();
  }

  window.psdField = {init: init, flush: flush};
  document.addEventListener("htmx:afterSettle", function () { init(document); });
  window.addEventListener("online", flush);
  // Another tab of the app sent (or kept) an action: show it here too, and since a sent
  // action changed a slip, refresh this page's live parts at once.
  window.addEventListener("storage", function (event) {
    if (event.key === QUEUE || event.key === SENT) { marks(); }
    if (event.key === SENT && window.htmx) { window.htmx.trigger(document.body, "live-changed"); }
  });
  window.setInterval(flush, RETRY_MS);
  init(document);
  flush();
})();
