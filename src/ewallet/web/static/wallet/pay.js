// The pay page's live channel. Without it the page still works: the code has a "refresh"
// link and a charge waiting for the payment password shows on reload.
// - #live[data-events]: server-sent events; on "change" (a charge arrived, waits for the
//   PIN, was paid, declined or ran out) fetch the waiting charges (data-live) and a fresh
//   code (data-code, the old one may be used up). Browsers without EventSource poll every 2 s.
(function () {
  "use strict";

  function start() {
    var live = document.getElementById("live");
    if (!live || !window.htmx) return;
    var refresh = function () {
      var code = document.getElementById("code");
      var typing = live.querySelector("input[name=payment_password]");
      if (!(typing && typing.value)) {
        window.htmx.ajax("GET", live.getAttribute("data-live"), { target: "#live", swap: "innerHTML" });
      }
      if (code) {
        window.htmx.ajax("GET", live.getAttribute("data-code"), { target: "#code", swap: "outerHTML" });
      }
    };
    if (window.EventSource) {
      var source = new window.EventSource(live.getAttribute("data-events"));
      source.addEventListener("change", refresh);
      window.addEventListener("pagehide", function () { source.close(); });
    } else {
      window.setInterval(refresh, 2000);
    }
  }

  document.addEventListener("DOMContentLoaded", start);
})();
