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
