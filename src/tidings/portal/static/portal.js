// Tidings portal: a little progressive enhancement; every page works without it.
(function () {
  "use strict";

  // Buttons with data-confirm ask before their form is sent.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var text = (button && button.getAttribute("data-confirm")) ||
               event.target.getAttribute("data-confirm");
    if (text && !window.confirm(text)) { event.preventDefault(); }
  });

  // Selects marked data-autosubmit send their filter form on change.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) { el.form.requestSubmit(); }
  });

  // Live template preview: re-render after typing stops, without leaving the page.
  function livePreview(form) {
    var frame = document.getElementById(form.getAttribute("data-preview-frame"));
    var subject = document.getElementById("preview-subject");
    var text = document.getElementById("preview-text");
    var status = document.getElementById("preview-status");
    var timer = null;
    function render() {
      var body = new URLSearchParams(new FormData(form));
      fetch(form.action, {method: "POST", body: body, credentials: "same-origin",
                          headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (out) {
          if (out.error) { status.textContent = out.error; status.className = "flash flash-error"; return; }
          status.textContent = "Rendered " + out.locale + " (version " + out.version + ")";
          status.className = "flash flash-ok";
          subject.textContent = out.subject;
          text.textContent = out.text;
          frame.srcdoc = out.html || "<p><em>This template has no HTML part.</em></p>";
        })
        .catch(function () { status.textContent = "The preview could not be loaded; use the Preview button."; });
    }
    form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(render, 400); });
  }
  document.querySelectorAll("form[data-preview-frame]").forEach(livePreview);

  // A message on its way: look again until a provider has answered.
  var watch = document.querySelector("[data-watch]");
  if (watch) {
    setTimeout(function () { window.location.reload(); },
               1000 * parseFloat(watch.getAttribute("data-watch")));
  }

  // A new digest starts in the browser's own time zone.
  document.querySelectorAll("select[data-guess-zone]").forEach(function (select) {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && select.querySelector('option[value="' + zone + '"]')) { select.value = zone; }
  });
})();
