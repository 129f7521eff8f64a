/* The studio's properties panel: id and name of the selected element; for a user task its lane
   (read-only, with the catalog's lanes) and its formKey; for a sequence flow its condition; for a
   service task its operator. Edits go through bpmn-js `modeling`, so they can be undone and are
   saved with the model. Exposes window.CraneStudioPanel(modeler, panel, meta). */
(function () {
  "use strict";

  var SPIFF = "spiffworkflow:";

  function text(panel, key) {
    return panel.getAttribute("data-t-" + key) || key;
  }

  function el(tag, attrs, content) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (content !== undefined) { node.textContent = content; }
    return node;
  }

  function extension(bo, type) {
    var values = (bo.extensionElements && bo.extensionElements.get("values")) || [];
    return values.filter(function (v) { return v.$type === SPIFF + type; })[0];
  }

  function formKeyProperty(bo) {
    var props = extension(bo, "properties");
    var list = props ? props.get("properties") : [];
    return list.filter(function (p) { return p.name === "formKey"; })[0];
  }

  function laneOf(registry, bo) {
    var lane = registry.filter(function (e) {
      return e.type === "bpmn:Lane" && (e.businessObject.flowNodeRef || []).indexOf(bo) !== -1;
    })[0];
    return lane ? (lane.businessObject.name || lane.businessObject.id) : null;
  }

  function CraneStudioPanel(modeler, panel, meta) {
    var modeling = modeler.get("modeling");
    var moddle = modeler.get("moddle");
    var registry = modeler.get("elementRegistry");
    var current = null;

    function ensureExtensions(element) {
      var bo = element.businessObject;
      if (!bo.extensionElements) {
        modeling.updateProperties(element, { extensionElements: moddle.create("bpmn:ExtensionElements", { values: [] }) });
      }
      return bo.extensionElements;
    }

    function setFormKey(element, value) {
      var prop = formKeyProperty(element.businessObject);
      if (prop) {
        modeling.updateModdleProperties(element, prop, { value: value });
        return;
      }
      var ext = ensureExtensions(element);
      var props = extension(element.businessObject, "properties");
      var created = moddle.create(SPIFF + "property", { name: "formKey", value: value });
      if (props) {
        modeling.updateModdleProperties(element, props, { properties: props.get("properties").concat([created]) });
      } else {
        props = moddle.create(SPIFF + "properties", { properties: [created] });
        modeling.updateModdleProperties(element, ext, { values: ext.get("values").concat([props]) });
      }
    }

    function setOperator(element, value) {
      var op = extension(element.businessObject, "serviceTaskOperator");
      if (op) {
        modeling.updateModdleProperties(element, op, { id: value });
        return;
      }
      var ext = ensureExtensions(element);
      // The schema requires the parameters element, even when empty.
      op = moddle.create(SPIFF + "serviceTaskOperator", {
        id: value, parameterList: moddle.create(SPIFF + "parameters", { parameters: [] })
      });
      modeling.updateModdleProperties(element, ext, { values: ext.get("values").concat([op]) });
    }

    function setCondition(element, value) {
      var body = value.trim();
      modeling.updateProperties(element, {
        conditionExpression: body ? moddle.create("bpmn:FormalExpression", { body: body }) : undefined
      });
    }

    function field(label, control, testid) {
      var row = el("div", { "class": "studio-field" });
      var id = "studio-field-" + testid;
      control.id = id;
      control.setAttribute("data-testid", "prop-" + testid);
      row.appendChild(el("label", { "for": id }, label));
      row.appendChild(control);
      panel.appendChild(row);
      return control;
    }

    function select(options, value, onChange) {
      var node = el("select");
      node.appendChild(el("option", { value: "" }, text(panel, "choose")));
      if (value && options.indexOf(value) === -1) {
        node.appendChild(el("option", { value: value }, text(panel, "unknown").replace("{value}", value)));
      }
      options.forEach(function (o) { node.appendChild(el("option", { value: o }, o)); });
      node.value = value || "";
      node.addEventListener("change", function () { onChange(node.value); });
      return node;
    }

    function input(value, onChange, multiline) {
      var node = el(multiline ? "textarea" : "input", multiline ? { rows: "3" } : { type: "text" });
      node.value = value || "";
      node.addEventListener("change", function () { onChange(node.value); });
      return node;
    }

    function render() {
      panel.textContent = "";
      panel.appendChild(el("h3", {}, text(panel, "title")));
      var element = current;
      if (!element || element.type === "bpmn:Process") {
        panel.appendChild(el("p", { "class": "muted" }, text(panel, "none")));
        return;
      }
      var bo = element.businessObject;
      field(text(panel, "type"), el("input", { type: "text", readonly: "readonly", value: bo.$type.replace("bpmn:", "") }), "type");
      field(text(panel, "id"), input(bo.id, function (v) {
        if (v.trim()) { modeling.updateProperties(element, { id: v.trim() }); }
      }), "id");
      field(text(panel, "name"), input(bo.name, function (v) {
        modeling.updateProperties(element, { name: v });
      }), "name");
      if (bo.$type === "bpmn:UserTask" || bo.$type === "bpmn:ManualTask") {
        var lane = laneOf(registry, bo);
        field(text(panel, "lane"), el("input", { type: "text", readonly: "readonly", value: lane || text(panel, "no-lane") }), "lane");
        panel.appendChild(el("p", { "class": "muted studio-lanes" }, text(panel, "lanes") + meta.lanes.join("、")));
        var prop = formKeyProperty(bo);
        field(text(panel, "form-key"), select(meta.form_keys, prop && prop.value, function (v) {
          setFormKey(element, v);
        }), "form-key");
      }
      if (bo.$type === "bpmn:SequenceFlow") {
        var cond = bo.conditionExpression;
        field(text(panel, "condition"), input(cond && cond.body, function (v) { setCondition(element, v); }, true),
              "condition");
      }
      if (bo.$type === "bpmn:ServiceTask") {
        var op = extension(bo, "serviceTaskOperator");
        field(text(panel, "operator"), select(meta.operators, op && op.id, function (v) {
          if (v) { setOperator(element, v); }
        }), "operator");
      }
    }

    var bus = modeler.get("eventBus");
    bus.on("selection.changed", function (e) {
      current = e.newSelection.length === 1 ? e.newSelection[0] : null;
      if (current && current.labelTarget) { current = current.labelTarget; }  // a label stands for its element
      render();
    });
    bus.on("elements.changed", function (e) {
      // Re-render after an edit (also undo/redo), unless the user is typing in the panel.
      if (current && e.elements.indexOf(current) !== -1 && !panel.contains(document.activeElement)) {
        render();
      }
    });
    render();
    return { refresh: render };
  }

  window.CraneStudioPanel = CraneStudioPanel;
})();
