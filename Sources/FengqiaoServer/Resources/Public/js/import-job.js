// Import job page: polls the job's JSON and updates the counters and the progress bar; reloads
// the page once the job has finished (to show the outcome and the issue list). Without this
// script the page refreshes itself every 3 seconds (meta refresh in <noscript>).
(function () {
  var job = document.getElementById("import-job");
  if (!job || !window.XMLHttpRequest) { return; }
  var url = job.getAttribute("data-job");
  var bar = document.getElementById("job-progress");
  var percent = document.getElementById("job-percent");
  var checking = document.getElementById("job-checking");
  var status = document.getElementById("job-status");
  var keys = ["read", "imported", "unchanged", "flagged", "rejected", "addressesCreated"];
  function later(ms) { setTimeout(poll, ms); }
  function update(j) {
    for (var i = 0; i < keys.length; i++) {
      var el = job.querySelector("[data-count=" + keys[i] + "]");
      if (el && j.counters) { el.textContent = j.counters[keys[i]]; }
    }
    if (bar) {
      if (typeof j.fractionDone === "number") {
        var pct = Math.floor(j.fractionDone * 100);
        bar.value = pct;
        if (percent) { percent.textContent = percent.getAttribute("data-about") + " " + pct + "%"; }
      } else {
        bar.removeAttribute("value");
      }
    }
    if (checking) { checking.hidden = !(j.status === "running" && j.counters && j.counters.read === 0); }
    if (status && j.status !== job.getAttribute("data-status")) {
      status.textContent = job.getAttribute("data-label-" + j.status) || j.status;
      status.className = "status status-" + j.status;
      job.setAttribute("data-status", j.status);
    }
  }
  function poll() {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      if (xhr.status !== 200) { later(5000); return; }
      var j;
      try { j = JSON.parse(xhr.responseText); } catch (e) { later(5000); return; }
      update(j);
      if (j.status === "succeeded" || j.status === "failed") { window.location.reload(); return; }
      later(1500);
    };
    xhr.onerror = function () { later(5000); };
    xhr.send();
  }
  later(1000);
})();
