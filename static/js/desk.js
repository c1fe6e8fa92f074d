// The desk's two keyboard-and-mouse niceties htmx cannot do (no inline script: CSP).
(function () {
  "use strict";
  // A number box focused by Tab or by htmx's autofocus has its value selected, so typing "2"
  // replaces the default "1" instead of making "12".
  document.addEventListener("focusin", function (event) {
    var el = event.target;
    if (el.matches && el.matches("input[data-select]") && typeof el.select === "function") {
      el.select();
    }
  });
  // A form marked data-once is sent once: a double click or a second Enter while the answer
  // is on its way does not log the call twice or open two slips.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-once]")) { return; }
    if (form.getAttribute("data-sent")) {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-sent", "1");
  });
  // Back to a page from the browser's cache: its forms may be sent again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      form.removeAttribute("data-sent");
    });
  });
})();
