/* The case diagram on the case page: the model the case runs on, with the steps it has passed and
   those it waits at now. Served as a file because the CSP allows no inline script. */
(function () {
  "use strict";

  var container = document.getElementById("case-diagram");
  if (!container) {
    return;
  }

  function fail() {
    container.textContent = container.getAttribute("data-error");
    container.setAttribute("data-state", "error");
  }

  if (typeof window.BpmnJS !== "function") {
    fail();
    return;
  }

  fetch(container.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("diagram: HTTP " + response.status);
      }
      return response.json();
    })
    .then(function (diagram) {
      var viewer = new window.BpmnJS({ container: container });
      return viewer.importXML(diagram.xml).then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        function mark(ids, marker) {
          ids.forEach(function (id) {
            // Ids from another version's model would not be drawn here; skip rather than throw.
            if (registry.get(id)) {
              canvas.addMarker(id, marker);
            }
          });
        }
        mark(diagram.completed, "cf-completed");
        mark(diagram.active, "cf-active");
        canvas.zoom("fit-viewport", "auto");
        container.setAttribute("data-state", "ready");
      });
    })
    .catch(fail);
})();
