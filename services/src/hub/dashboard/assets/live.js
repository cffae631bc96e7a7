// edgefleet dashboard: keeps the page's view current over one Server-Sent Events stream per tab, and submits the
// history slider as it moves. The page is complete without it.
(function () {
  "use strict";
  var view = document.querySelector("main[data-live]");
  var status = document.getElementById("live-status");
  function say(text) { if (status) { status.textContent = text; } }
  function wireSlider() {
    var slider = document.querySelector("input[data-autosubmit]");
    if (!slider) { return; }
    var shown = document.getElementById("at-shown");
    slider.addEventListener("input", function () { if (shown) { shown.textContent = slider.value; } });
    slider.addEventListener("change", function () { slider.form.submit(); });
  }
  wireSlider();
  if (!view || !window.EventSource) { return; }
  var source = new EventSource("/live?path=" + encodeURIComponent(view.getAttribute("data-live")) +
    "&shown=" + encodeURIComponent(view.getAttribute("data-shown") || ""));
  source.addEventListener("view", function (event) {
    // Keep the keyboard where it was: remember the focused element by id, and focus it again if it is still there.
    var focused = document.activeElement && document.activeElement.id;
    view.innerHTML = event.data;
    if (focused) { var again = document.getElementById(focused); if (again) { again.focus(); } }
    wireSlider();
    say("Live · updated " + new Date().toLocaleTimeString());
  });
  source.addEventListener("trouble", function (event) { say("Not updated: " + event.data); });
  source.addEventListener("ended", function (event) { say("Not live: " + event.data); source.close(); });
  source.onerror = function () { say("Reconnecting…"); };
})();
