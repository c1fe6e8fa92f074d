// The till: mark the queue row whose slip is open in the payment panel (again after every live
// refresh of the queue), and bring the panel into view on a narrow screen.
(function () {
  "use strict";
  function mark() {
    var panel = document.getElementById("pay-panel");
    var open = panel && panel.getAttribute("data-slip");
    var rows = document.querySelectorAll("#queue .queue-row");
    for (var i = 0; i < rows.length; i++) {
      if (open && rows[i].getAttribute("data-slip") === open) {
        rows[i].setAttribute("aria-current", "true");
      } else {
        rows[i].removeAttribute("aria-current");
      }
    }
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    var el = event.detail.elt;
    if (!el || !el.id) { mark(); return; }
    if (el.id === "pay-panel" && window.innerWidth < 1000 && el.scrollIntoView) {
      el.scrollIntoView({block: "start", behavior: "smooth"});
    }
    mark();
  });
  document.addEventListener("DOMContentLoaded", mark);
})();
