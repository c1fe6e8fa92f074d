// The desk's one keyboard nicety htmx cannot do: a number box focused by Tab or by htmx's
// autofocus has its value selected, so typing "2" replaces the default "1" instead of making "12".
(function () {
  "use strict";
  document.addEventListener("focusin", function (event) {
    var el = event.target;
    if (el.matches && el.matches("input[data-select]") && typeof el.select === "function") {
      el.select();
    }
  });
})();
