// Live updates by polling: ask for the session's revision every two seconds and fetch
// the page's live part again only when it changed; a new turn reloads the whole page.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var revision = live.getAttribute("data-revision");
  var turn = live.getAttribute("data-turn");
  function refresh() {
    fetch(live.getAttribute("data-live"), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var box = document.createElement("div");
        box.innerHTML = html;
        var mark = box.querySelector("[data-revision]");
        if (mark && mark.getAttribute("data-turn") !== turn) { window.location.href = window.location.pathname; return; }
        live.innerHTML = html;
        if (mark) { revision = mark.getAttribute("data-revision"); }
      })
      .catch(function () {});
  }
  function poll() {
    fetch(live.getAttribute("data-revision-url"), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && String(data.revision) !== revision) { refresh(); }
      })
      .catch(function () {})
      .then(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 2000);
}());

// The letter form: the "By" list offers only the channels that join the seat to the
// chosen recipient (each channel's option names them in data-to). Without this script
// every channel is listed, and the server refuses one the pair may not use, in words.
(function () {
  "use strict";
  function follow(to) {
    var by = to.form && to.form.querySelector("select[name=channel]");
    if (!by) { return; }
    var first = null;
    Array.prototype.forEach.call(by.options, function (o) {
      var ok = (" " + (o.getAttribute("data-to") || "") + " ").indexOf(" " + to.value + " ") >= 0;
      o.hidden = !ok;
      o.disabled = !ok;
      if (ok && first === null) { first = o; }
    });
    if (by.selectedOptions.length === 0 || by.selectedOptions[0].disabled) {
      if (first !== null) { first.selected = true; }
    }
  }
  document.addEventListener("change", function (e) {
    if (e.target && e.target.matches && e.target.matches("form select[name=to]")) { follow(e.target); }
  });
  Array.prototype.forEach.call(document.querySelectorAll("form select[name=to]"), follow);
}());
