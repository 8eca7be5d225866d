// The report's place on tiles of the configured server (CONSOLE_TILE_URL); without one the
// page shows the district outline alone. Loaded from the app: no inline script.
document.addEventListener("DOMContentLoaded", function () {
  var element = document.getElementById("map");
  if (!element || typeof L === "undefined") return;
  var lat = parseFloat(element.dataset.lat), lon = parseFloat(element.dataset.lon);
  var map = L.map(element).setView([lat, lon], 17);
  L.tileLayer(element.dataset.tiles, { maxZoom: 19, attribution: "© OpenStreetMap" }).addTo(map);
  L.circleMarker([lat, lon], { radius: 8, color: "#8f1111", weight: 3 }).addTo(map);
});
