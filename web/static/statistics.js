// Statistics dashboard: one ECharts chart per section, its data in the element's data-chart
// attribute ({type, stack, categories, series: [{name, data}]}), written by the server.
(function () {
  "use strict";

  function option(spec) {
    var many = spec.categories.length > 8;
    return {
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 48, right: 16, top: 36, bottom: many ? 72 : 32, containLabel: true },
      xAxis: { type: "category", data: spec.categories,
               axisLabel: { interval: 0, rotate: many ? 40 : 0 } },
      yAxis: { type: "value" },
      series: spec.series.map(function (s) {
        return { name: s.name, type: spec.type, data: s.data, stack: spec.stack ? "total" : undefined,
                 smooth: spec.type === "line", connectNulls: true };
      })
    };
  }

  function draw() {
    if (!window.echarts) { return; }
    var charts = [];
    document.querySelectorAll(".stat-chart[data-chart]").forEach(function (el) {
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option(JSON.parse(el.getAttribute("data-chart"))));
      el.setAttribute("data-rendered", "1");
      charts.push(chart);
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
