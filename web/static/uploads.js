/* File fields of the task form upload as soon as files are picked: checked here for type and size
   first (the server's check stays the authority and its 4xx message is shown), sent to
   /api/v1/attachments with a progress bar, then listed with a thumbnail (images) or a PDF mark
   and a remove button. The form then posts only the ids ("<field>.keep"). Without JavaScript the
   file inputs post the files with the form. */
(function () {
  "use strict";

  var form = document.querySelector("form.taskform[data-upload-url]");
  if (!form || typeof XMLHttpRequest === "undefined" || typeof FormData === "undefined") {
    return;
  }
  var uploadUrl = form.getAttribute("data-upload-url");
  var maxBytes = parseInt(form.getAttribute("data-max-upload"), 10) || 0;
  var csrf = (form.querySelector("input[name=csrf_token]") || {}).value || "";
  var TYPES = { "application/pdf": "pdf", "image/jpeg": "image", "image/png": "image" };
  var EXTENSIONS = { pdf: "application/pdf", jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png" };
  var pending = 0;

  function msg(name) {
    return form.getAttribute("data-msg-" + name) || name;
  }

  function typeOf(file) {
    if (TYPES[file.type]) {
      return file.type;
    }
    var ext = (file.name.split(".").pop() || "").toLowerCase();
    return EXTENSIONS[ext] || null;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function viewUrl(id) {
    // data-view-url is the address of attachment 0; put the id in its place.
    return form.getAttribute("data-view-url").replace("/0?", "/" + encodeURIComponent(id) + "?");
  }

  function serverMessage(xhr) {
    try {
      var body = JSON.parse(xhr.responseText);
      var field = body.errors && body.errors.file;
      return (field && field.join(" ")) || body.message || msg("failed");
    } catch (e) {
      return msg("failed");
    }
  }

  function removeButton(item) {
    var remove = el("button", "link-button", msg("remove"));
    remove.type = "button";
    remove.setAttribute("data-testid", "remove-upload");
    remove.addEventListener("click", function () { item.parentNode.removeChild(item); });
    return remove;
  }

  function done(item, key, att) {
    item.removeChild(item.querySelector(".upload-name"));
    item.className = "upload done";
    item.setAttribute("data-attachment-id", att.id);
    var keep = el("input");
    keep.type = "hidden";
    keep.name = key + ".keep";
    keep.value = att.id;
    item.appendChild(keep);
    var link = el("a", "upload-preview");
    link.href = viewUrl(att.id);
    link.target = "_blank";
    link.rel = "noopener";
    if (TYPES[att.content_type] === "image") {
      var img = el("img", "thumb");
      img.src = viewUrl(att.id);
      img.alt = att.name;
      img.setAttribute("data-testid", "upload-thumb");
      link.appendChild(img);
    } else {
      link.appendChild(el("span", "pdf-icon", "PDF"));
    }
    link.appendChild(el("span", "upload-name", att.name));
    item.appendChild(link);
    item.appendChild(removeButton(item));
  }

  function failed(item, text) {
    item.className = "upload failed";
    var bar = item.querySelector("progress");
    if (bar) {
      bar.parentNode.removeChild(bar);
    }
    var error = el("span", "field-error", text);
    error.setAttribute("role", "alert");
    error.setAttribute("data-testid", "upload-error");
    item.appendChild(error);
    item.appendChild(removeButton(item));
  }

  function upload(file, key, list) {
    var item = el("li", "upload");
    item.appendChild(el("span", "upload-name", file.name));
    list.appendChild(item);
    if (!typeOf(file)) {
      failed(item, msg("type"));
      return;
    }
    if (maxBytes && file.size > maxBytes) {
      failed(item, msg("size"));
      return;
    }
    var bar = el("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("data-testid", "upload-progress");
    var percent = el("span", "upload-percent", "0%");
    item.appendChild(bar);
    item.appendChild(percent);
    var body = new FormData();
    body.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", uploadUrl);
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        bar.value = Math.round(event.loaded * 100 / event.total);
        percent.textContent = bar.value + "%";
      }
    });
    pending += 1;
    xhr.addEventListener("loadend", function () {
      pending -= 1;
      if (xhr.status === 201) {
        bar.value = 100;
        percent.textContent = "100%";
        done(item, key, JSON.parse(xhr.responseText));
      } else {
        failed(item, xhr.status ? serverMessage(xhr) : msg("failed"));
      }
      settled();
    });
    xhr.send(body);
  }

  Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (input) {
    var field = input.closest(".field");
    var list = field.querySelector("ul.files");
    input.addEventListener("change", function () {
      Array.prototype.forEach.call(input.files, function (file) { upload(file, input.name, list); });
      input.value = "";  // uploaded already: the form posts the ids, not the files again
    });
  });

  // Submitting while an upload is still running would drop its file: the submission (or draft
  // save) waits for the uploads and then goes ahead.
  var waiting = false;
  var submitter = null;
  form.addEventListener("submit", function (event) {
    if (pending > 0) {
      event.preventDefault();
      waiting = true;
      submitter = event.submitter || null;
    }
  });

  function settled() {
    if (pending === 0 && waiting) {
      waiting = false;
      if (form.requestSubmit) {
        form.requestSubmit(submitter);
      } else {
        form.submit();
      }
    }
  }
}());
