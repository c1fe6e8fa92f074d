// Live screens. A page with <body data-live="URL"> waits on the server for the next change
// (one long request at a time, ~25 s each when idle) and then fires "live-changed" on the
// body; any part of the page with hx-trigger="live-changed from:body" refreshes itself.
(function () {
  "use strict";
  var url = document.body && document.body.getAttribute("data-live");
  if (!url || !window.fetch) { return; }
  // The stamp the page was drawn at, when it says: a change while the page loads still shows.
  var drawn = parseInt(document.body.getAttribute("data-live-stamp"), 10);
  var stamp = isNaN(drawn) ? -1 : drawn;
  var failures = 0;

  function wait() {
    fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "since=" + stamp,
          {credentials: "same-origin", cache: "no-store",
           headers: {"Accept": "application/json"}})
      .then(function (resp) {
        if (resp.status === 401 || resp.redirected) {  // signed out: let the page show it
          window.location.reload();
          throw new Error("signed out");
        }
        if (!resp.ok) { throw new Error("status " + resp.status); }
        return resp.json();
      })
      .then(function (body) {
        failures = 0;
        var changed = stamp !== -1 && body.stamp !== stamp;
        stamp = body.stamp;
        document.body.setAttribute("data-live-stamp", String(stamp));
        if (changed && window.htmx) { window.htmx.trigger(document.body, "live-changed"); }
        wait();
      })
      .catch(function () {
        // No signal (or the server restarting): try again, slower each time, up to 10 s.
        failures += 1;
        window.setTimeout(wait, Math.min(10000, 500 * failures));
      });
  }
  // A screen back from sleep or from a dead zone may have missed changes: refresh once.
  window.addEventListener("online", function () {
    if (window.htmx) { window.htmx.trigger(document.body, "live-changed"); }
  });
  wait();
})();
