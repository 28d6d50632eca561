// Fills the report form's hidden position fields from the device (navigator.geolocation).
// Without this script the form still works: the reporter chooses a building.
(function () {
  var btn = document.getElementById("hz-gps");
  if (!btn || !("geolocation" in navigator)) { return; }
  var box = btn.parentNode, status = document.getElementById("hz-gps-status");
  var lon = document.getElementById("hz-lon"), lat = document.getElementById("hz-lat");
  box.hidden = false;
  function locate() {
    navigator.geolocation.getCurrentPosition(function (p) {
      lat.value = p.coords.latitude.toFixed(6);
      lon.value = p.coords.longitude.toFixed(6);
      status.textContent = status.getAttribute("data-ok") + " " + lat.value + ", " + lon.value + " (±" + Math.round(p.coords.accuracy) + " m)";
    }, function () {
      status.textContent = status.getAttribute("data-fail");
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }
  btn.addEventListener("click", locate);
  if (!lat.value) { locate(); }
  var form = btn.form;
  if (form) {
    form.addEventListener("submit", function () {
      var b = form.querySelector("button.primary");
      if (b) { setTimeout(function () { b.disabled = true; }, 0); }
    });
  }
})();
