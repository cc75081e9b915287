// Axis ticks, zoom (wheel) and pan (drag) on the x axis of every graph; double-click resets.
// Sortable healthy-connections table. Kept dependency-free so the report works offline.
(function () {
  "use strict";
  function nice(span, count) {
    var raw = span / count, mag = Math.pow(10, Math.floor(Math.log10(raw))), n = raw / mag;
    return (n < 1.5 ? 1 : n < 3.5 ? 2 : n < 7.5 ? 5 : 10) * mag;
  }
  function fmt(v, step) {
    var digits = Math.max(0, -Math.floor(Math.log10(step)));
    var a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(1) + "G";
    if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 0 : 1) + "M";
    if (a >= 1e4) return (v / 1e3).toFixed(0) + "k";
    return v.toFixed(Math.min(digits, 6));
  }
  function ticks(box, lo, hi, horizontal, count) {
    box.textContent = "";
    if (!(hi > lo)) return;
    var step = nice(hi - lo, count);
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      var s = document.createElement("span");
      var frac = (v - lo) / (hi - lo);
      if (horizontal) s.style.left = (frac * 100) + "%"; else s.style.top = ((1 - frac) * 100) + "%";
      s.textContent = fmt(v, step) + (horizontal ? "s" : "");
      box.appendChild(s);
    }
  }
  function setup(fig) {
    var svg = fig.querySelector("svg.plot");
    var x0 = +fig.dataset.x0, x1 = +fig.dataset.x1, y0 = +fig.dataset.y0, y1 = +fig.dataset.y1;
    var W = 1000, H = 360, view = { x: 0, w: W };
    function draw() {
      svg.setAttribute("viewBox", view.x + " 0 " + view.w + " " + H);
      ticks(fig.querySelector(".xticks"), x0 + (x1 - x0) * view.x / W, x0 + (x1 - x0) * (view.x + view.w) / W, true, 8);
      ticks(fig.querySelector(".yticks"), y0, y1, false, 6);
    }
    svg.addEventListener("wheel", function (e) {
      e.preventDefault();
      var r = svg.getBoundingClientRect(), at = view.x + view.w * (e.clientX - r.left) / r.width;
      var w = Math.min(W, Math.max(W / 5000, view.w * (e.deltaY > 0 ? 1.25 : 0.8)));
      view.x = Math.min(W - w, Math.max(0, at - (at - view.x) * w / view.w)); view.w = w; draw();
    }, { passive: false });
    var drag = null;
    svg.addEventListener("pointerdown", function (e) { drag = { x: e.clientX, vx: view.x }; svg.setPointerCapture(e.pointerId); });
    svg.addEventListener("pointermove", function (e) {
      if (!drag) return;
      var r = svg.getBoundingClientRect();
      view.x = Math.min(W - view.w, Math.max(0, drag.vx - (e.clientX - drag.x) * view.w / r.width)); draw();
    });
    svg.addEventListener("pointerup", function () { drag = null; });
    svg.addEventListener("dblclick", function () { view = { x: 0, w: W }; draw(); });
    draw();
    fig.dataset.rendered = String(fig.querySelectorAll("path.series").length);
  }
  function sortable(table) {
    table.querySelectorAll("th").forEach(function (th, col) {
      th.addEventListener("click", function () {
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        var asc = th.dataset.dir !== "asc"; th.dataset.dir = asc ? "asc" : "desc";
        rows.sort(function (a, b) {
          var p = a.cells[col].textContent, q = b.cells[col].textContent, x = parseFloat(p), y = parseFloat(q);
          var c = (!isNaN(x) && !isNaN(y)) ? x - y : p.localeCompare(q);
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }
  document.querySelectorAll("figure.graph").forEach(setup);
  document.querySelectorAll("table.sortable").forEach(sortable);
  document.body.dataset.ready = "1";
})();
