/* Multi-step task forms: the server renders every step (fieldset group) of the form one after the
   other, which is the whole form without JavaScript. Here only one step is shown at a time, with
   a step indicator and Back / Next buttons. Submitting and saving a draft always send every step. */
(function () {
  "use strict";

  var form = document.querySelector("form.taskform[data-testid=task-form]");
  if (!form) {
    return;
  }
  var steps = Array.prototype.slice.call(form.querySelectorAll(".form-step"));
  if (steps.length < 2) {
    return;
  }
  var current = 0;
  var label = form.getAttribute("data-msg-step") || "{n} / {total}";

  var indicator = document.createElement("ol");
  indicator.className = "step-indicator";
  indicator.setAttribute("data-testid", "step-indicator");
  steps.forEach(function (step, index) {
    var item = document.createElement("li");
    var link = document.createElement("button");
    link.type = "button";
    link.className = "link-button";
    link.textContent = (index + 1) + ". " + step.getAttribute("data-step-title");
    link.addEventListener("click", function () { show(index); });
    item.appendChild(link);
    indicator.appendChild(item);
  });
  form.insertBefore(indicator, steps[0]);

  var nav = document.createElement("div");
  nav.className = "step-nav";
  var back = button("‹ " + form.getAttribute("data-msg-back"), "step-back");
  var status = document.createElement("span");
  status.className = "muted";
  status.setAttribute("aria-live", "polite");
  var next = button(form.getAttribute("data-msg-next") + " ›", "step-next");
  nav.appendChild(back);
  nav.appendChild(status);
  nav.appendChild(next);
  var actions = form.querySelector(".form-actions");
  form.insertBefore(nav, actions || null);

  back.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });

  function button(text, testid) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.setAttribute("data-testid", testid);
    return b;
  }

  function show(index) {
    current = Math.max(0, Math.min(steps.length - 1, index));
    steps.forEach(function (step, i) { step.hidden = i !== current; });
    Array.prototype.forEach.call(indicator.children, function (item, i) {
      item.className = i === current ? "current" : (i < current ? "done" : "");
      if (i === current) {
        item.setAttribute("aria-current", "step");
      } else {
        item.removeAttribute("aria-current");
      }
    });
    back.disabled = current === 0;
    next.hidden = current === steps.length - 1;
    status.textContent = label.replace("{n}", current + 1).replace("{total}", steps.length);
    form.setAttribute("data-current-step", String(current + 1));
  }

  // Open on the first step with an error after a refused submission, else on the first.
  var firstError = steps.findIndex(function (step) { return step.querySelector(".has-error, .field-error"); });
  show(firstError >= 0 ? firstError : 0);
}());
