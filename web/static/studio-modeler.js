/* The admin studio's modeler page: bpmn-js Modeler with the spiffworkflow moddle extension (so
   formKey, service operators and their parameters survive a save), our properties panel, and the
   Validate / Deploy / Download / Upload actions against /api/v1/studio. Problems found by the
   server are marked on their diagram elements and listed with their line numbers. */
(function () {
  "use strict";

  var root = document.getElementById("studio");
  if (!root) { return; }
  var canvasNode = root.querySelector(".studio-canvas");
  var panelNode = root.querySelector(".studio-panel");
  var statusNode = root.querySelector(".studio-status");
  var problemsNode = root.querySelector(".studio-problems");
  var fileName = root.getAttribute("data-file");
  var modeler = null;
  var marked = [];

  function t(key, params) {
    var s = root.getAttribute("data-t-" + key) || key;
    Object.keys(params || {}).forEach(function (k) { s = s.split("{" + k + "}").join(String(params[k])); });
    return s;
  }

  function status(message, kind) {
    statusNode.textContent = message;
    statusNode.setAttribute("data-kind", kind || "info");
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    });
  }

  function send(url, body, contentType) {
    var headers = { Accept: "application/json", "X-CSRF-Token": root.getAttribute("data-csrf") };
    if (contentType) { headers["Content-Type"] = contentType; }
    return fetch(url, { method: "POST", credentials: "same-origin", headers: headers, body: body })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) { return { status: r.status, data: data }; });
      });
  }

  function clearProblems() {
    var canvas = modeler.get("canvas");
    marked.forEach(function (id) { canvas.removeMarker(id, "studio-problem"); });
    modeler.get("overlays").remove({ type: "studio-problem" });
    marked = [];
    problemsNode.textContent = "";
  }

  function showProblems(problems) {
    clearProblems();
    var registry = modeler.get("elementRegistry");
    problems.forEach(function (p, i) {
      var li = document.createElement("li");
      li.setAttribute("data-element", p.element || "");
      li.textContent = (p.line ? t("line", { line: p.line }) + " · " : "") + (p.element ? "[" + p.element + "] " : "") + p.message;
      problemsNode.appendChild(li);
      var shape = p.element && registry.get(p.element);
      if (!shape) { return; }
      if (marked.indexOf(p.element) === -1) {
        modeler.get("canvas").addMarker(p.element, "studio-problem");
        marked.push(p.element);
      }
      var badge = document.createElement("div");
      badge.className = "studio-problem-badge";
      badge.textContent = String(i + 1);
      badge.title = p.message;
      modeler.get("overlays").add(p.element, "studio-problem", { position: { top: -10, right: 10 }, html: badge });
      li.className = "studio-problem-link";
      li.addEventListener("click", function () {
        modeler.get("selection").select(shape);
        modeler.get("canvas").scrollToElement(shape);
      });
    });
  }

  function refusal(response) {
    var d = response.data || {};
    if (d.problems) { return d.problems; }
    var errors = d.errors || {};
    var messages = [].concat.apply([], Object.keys(errors).map(function (k) { return errors[k]; }));
    return (messages.length ? messages : [d.message || ""]).map(function (m) {
      return { line: null, element: null, message: m };
    });
  }

  function currentXML() {
    return modeler.saveXML({ format: true }).then(function (r) { return r.xml; });
  }

  function withName(url) {
    return url + "?file_name=" + encodeURIComponent(fileName);
  }

  function validate() {
    status("…");
    return currentXML().then(function (xml) {
      return send(withName(root.getAttribute("data-validate-url")), xml, "application/xml");
    }).then(function (r) {
      var problems = r.status === 200 ? r.data.problems : refusal(r);
      showProblems(problems);
      if (r.status === 200 && !problems.length) { status(t("valid"), "ok"); } else { status(t("invalid", { n: problems.length }), "error"); }
    });
  }

  function deploy() {
    status("…");
    return currentXML().then(function (xml) {
      return send(withName(root.getAttribute("data-deploy-url")), xml, "application/xml");
    }).then(function (r) {
      if (r.status === 201 || r.status === 200) {
        clearProblems();
        status(t(r.status === 201 ? "deployed" : "unchanged", { v: r.data.version }), "ok");
        var link = document.createElement("a");
        link.href = root.getAttribute("data-modeler-url").replace(/v0$/, "v" + r.data.version);
        link.textContent = t("open-new");
        link.setAttribute("data-testid", "studio-open-version");
        statusNode.appendChild(document.createTextNode(" "));
        statusNode.appendChild(link);
      } else if (r.status === 422) {
        var problems = refusal(r);
        showProblems(problems);
        status(t("refused", { n: problems.length }), "error");
      } else {
        status(t("failed", { status: r.status, message: (r.data && r.data.message) || "" }), "error");
      }
    });
  }

  function download() {
    return currentXML().then(function (xml) {
      var link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([xml], { type: "application/xml" }));
      link.download = fileName.replace(/\.(bpmn|xml)$/i, "") + ".bpmn";
      document.body.appendChild(link);
      link.click();
      setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
    });
  }

  function upload(input) {
    var file = input.files && input.files[0];
    if (!file) { return Promise.resolve(); }
    var form = new FormData();
    form.append("file", file);
    status("…");
    return send(root.getAttribute("data-validate-url"), form).then(function (r) {
      input.value = "";
      if (r.status !== 200) {
        var problems = refusal(r);
        showProblems(problems);
        status(t("refused", { n: problems.length }), "error");
        return;
      }
      return modeler.importXML(r.data.xml).then(function () {
        fileName = file.name;
        modeler.get("canvas").zoom("fit-viewport", "auto");
        showProblems(r.data.problems);
        status(t("uploaded", { name: file.name }) + (r.data.problems.length ? " " + t("invalid", { n: r.data.problems.length }) : ""),
               r.data.problems.length ? "error" : "ok");
      });
    });
  }

  function wire() {
    var actions = { validate: validate, deploy: deploy, download: download };
    root.querySelectorAll("button[data-action]").forEach(function (button) {
      button.addEventListener("click", function () {
        actions[button.getAttribute("data-action")]().catch(function (e) { status(t("failed", { status: "-", message: e.message }), "error"); });
      });
    });
    var file = root.querySelector("input[data-action=upload]");
    file.addEventListener("change", function () {
      upload(file).catch(function (e) { status(t("failed", { status: "-", message: e.message }), "error"); });
    });
  }

  if (typeof window.BpmnJS !== "function") {
    status(t("load-failed"), "error");
    return;
  }
  status(t("loading"));
  Promise.all([
    getJSON(root.getAttribute("data-moddle-url")),
    getJSON(root.getAttribute("data-meta-url")),
    fetch(root.getAttribute("data-xml-url"), { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.text();
    })
  ]).then(function (loaded) {
    modeler = new window.BpmnJS({ container: canvasNode, moddleExtensions: { spiffworkflow: loaded[0] } });
    return modeler.importXML(loaded[2]).then(function () {
      modeler.get("canvas").zoom("fit-viewport", "auto");
      window.CraneStudioPanel(modeler, panelNode, loaded[1]);
      wire();
      status("");
      root.setAttribute("data-state", "ready");
    });
  }).catch(function (e) {
    status(t("load-failed") + " " + e.message, "error");
    root.setAttribute("data-state", "error");
  });
})();
