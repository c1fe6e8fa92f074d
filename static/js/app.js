// Small behaviours the CSP allows (no inline script anywhere): confirmations and auto-submit.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  }, true);

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]")) {
      el.form.requestSubmit();
    }
  });

  // An expired session answers 401 with HX-Redirect (htmx follows it). Any other failed
  // htmx request gets a visible message instead of silently doing nothing.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.getResponseHeader("HX-Redirect")) { return; }
    var box = document.getElementById("htmx-error");
    if (!box) {
      box = document.createElement("div");
      box.id = "htmx-error";
      box.className = "alert error";
      box.setAttribute("role", "alert");
      var main = document.getElementById("main");
      main.insertBefore(box, main.firstChild);
    }
    var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
    var text = doc.querySelector(".error-page p");
    box.textContent = text ? text.textContent : (document.documentElement.lang === "en"
      ? "The request failed. Try again." : "操作失败，请重试。");
  });
  document.addEventListener("htmx:sendError", function () {
    var box = document.getElementById("htmx-error") || document.createElement("div");
    box.id = "htmx-error";
    box.className = "alert error";
    box.setAttribute("role", "alert");
    box.textContent = document.documentElement.lang === "en"
      ? "No connection to the office system. Check the network and try again."
      : "无法连接服务器，请检查网络后重试。";
    var main = document.getElementById("main");
    if (!box.parentNode) { main.insertBefore(box, main.firstChild); }
  });
})();
