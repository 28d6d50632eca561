// 数据导入: uploads the form with a progress bar, and refuses a file over the limit before sending
// it. Without this script (or in an old browser) the form posts normally and works the same.
(function () {
  var form = document.getElementById("import-form");
  if (!form || !window.FormData || !window.XMLHttpRequest || !("upload" in new XMLHttpRequest()) ||
      !("responseURL" in XMLHttpRequest.prototype) || !window.DOMParser) { return; }
  var box = document.getElementById("upload-progress");
  var bar = box.querySelector("progress");
  var label = box.querySelector("span");
  var error = document.getElementById("import-error");
  var button = form.querySelector("button");
  function showError(text) {
    error.textContent = text;
    error.hidden = false;
    box.hidden = true;
    if (button) { setTimeout(function () { button.disabled = false; }, 0); }
  }
  form.addEventListener("submit", function (e) {
    var input = form.querySelector("input[type=file]");
    var file = input && input.files && input.files[0];
    if (!file) { return; }
    e.preventDefault();
    var max = parseInt(form.getAttribute("data-max-bytes"), 10);
    if (max && file.size > max) { showError(form.getAttribute("data-too-large")); return; }
    error.hidden = true;
    box.hidden = false;
    bar.removeAttribute("value");
    label.textContent = form.getAttribute("data-uploading");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.onprogress = function (ev) {
      if (!ev.lengthComputable) { return; }
      var pct = Math.floor(ev.loaded * 100 / ev.total);
      bar.value = pct;
      label.textContent = form.getAttribute("data-uploading") + " " + pct + "%";
    };
    xhr.onload = function () {
      if (xhr.status >= 200 && xhr.status < 300 && xhr.responseURL && xhr.responseURL.indexOf("/imports/") > 0) {
        window.location.href = xhr.responseURL;
        return;
      }
      // An error page (too large, no such grid, expired form): show its main part in place.
      var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
      var main = doc.querySelector("main");
      var alert = doc.querySelector("#import-error:not([hidden])") || (main && main.querySelector(".error"));
      showError(alert ? alert.textContent : form.getAttribute("data-failed") + " (" + xhr.status + ")");
    };
    xhr.onerror = function () { showError(form.getAttribute("data-failed")); };
    xhr.send(new FormData(form));
  });
})();
