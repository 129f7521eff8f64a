/* The studio's version diff: both versions in navigated viewers side by side, with the elements
   added, removed and changed (as computed on the server) marked in colour. */
(function () {
  "use strict";

  var root = document.querySelector(".studio-diff");
  if (!root) { return; }
  var marks = JSON.parse(root.getAttribute("data-marks"));

  function show(container) {
    function fail() {
      container.textContent = root.getAttribute("data-error");
      container.setAttribute("data-state", "error");
    }
    if (typeof window.BpmnJS !== "function") { fail(); return; }
    fetch(container.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.text();
      })
      .then(function (xml) {
        var viewer = new window.BpmnJS({ container: container });
        return viewer.importXML(xml).then(function () {
          var canvas = viewer.get("canvas");
          var registry = viewer.get("elementRegistry");
          var side = marks[container.getAttribute("data-side")] || {};
          Object.keys(side).forEach(function (id) {
            if (registry.get(id)) { canvas.addMarker(id, "studio-" + side[id]); }
          });
          canvas.zoom("fit-viewport", "auto");
          container.setAttribute("data-state", "ready");
        });
      })
      .catch(fail);
  }

  root.querySelectorAll(".diagram-canvas").forEach(show);
})();
