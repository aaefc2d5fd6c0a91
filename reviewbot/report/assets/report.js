/* reviewbot report: draws the charts from the JSON data block with Chart.js. Text from the data is only ever
   handed to Chart.js, which paints it on a canvas; nothing here writes HTML. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac"];
  var STATE_COLORS = {
    open: "#f28e2b", triaged: "#76b7b2", in_review: "#4e79a7", changes_requested: "#e15759",
    approved: "#59a14f", published: "#8cd17d", closed: "#bab0ac", dismissed: "#d4d4d4"
  };
  var TONE = { negative: "#e15759", nps: "#4e79a7", csat: "#59a14f", before: "#bab0ac", after: "#4e79a7" };

  Chart.defaults.animation = false; // drawn at once: printing and screenshots see the finished charts
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#1f2328";
  Chart.defaults.datasets.bar.maxBarThickness = 48;

  function canvas(id) {
    return document.getElementById(id);
  }

  // Horizontal bar charts grow with their rows so that every label stays readable.
  function fitRows(id, rows) {
    var c = canvas(id);
    if (c) c.parentElement.style.height = Math.max(160, rows * 24 + 80) + "px";
  }

  // A click on a bar follows its link to the row in the evidence tables.
  function follow(anchors) {
    return function (event, elements) {
      if (elements.length && anchors && anchors[elements[0].index]) location.hash = anchors[elements[0].index];
    };
  }

  function fullTitle(full) {
    return function (items) { return items.length ? full[items[0].dataIndex] : ""; };
  }

  function percentAxis(min, max) {
    return { min: min, max: max, ticks: { callback: function (v) { return v + "%"; } } };
  }

  function draw(id, config) {
    var c = canvas(id);
    return c ? new Chart(c, config) : null;
  }

  function weekly(d) {
    draw("chart-weekly", {
      type: "line",
      data: {
        labels: d.labels,
        datasets: d.series.map(function (s, i) {
          return { label: s.label, data: s.data, borderColor: PALETTE[i % PALETTE.length],
            backgroundColor: PALETTE[i % PALETTE.length], tension: 0.25, pointRadius: 2 };
        })
      },
      options: {
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, title: { display: true, text: "items per week" } } },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } }
      }
    });
  }

  function tone(prefix, d) {
    fitRows(prefix + "-negative", d.labels.length);
    draw(prefix + "-negative", {
      type: "bar",
      data: { labels: d.labels, datasets: [{ label: "negative share", data: d.negative, backgroundColor: TONE.negative }] },
      options: {
        indexAxis: "y", onClick: follow(d.anchors), scales: { x: percentAxis(0, 100) },
        plugins: { legend: { display: false }, tooltip: { callbacks: { title: fullTitle(d.full) } } }
      }
    });
    if (!d.scored) return;
    fitRows(prefix + "-scores", d.scored.labels.length);
    draw(prefix + "-scores", {
      type: "bar",
      data: {
        labels: d.scored.labels,
        datasets: [
          { label: "NPS (-100 to 100)", data: d.scored.nps, backgroundColor: TONE.nps },
          { label: "CSAT (% satisfied)", data: d.scored.csat, backgroundColor: TONE.csat }
        ]
      },
      options: {
        indexAxis: "y", onClick: follow(d.scored.anchors), scales: { x: { min: -100, max: 100 } },
        plugins: { legend: { position: "bottom" }, tooltip: { callbacks: { title: fullTitle(d.scored.full) } } }
      }
    });
  }

  function tickets(d) {
    draw("chart-ticket-states", {
      type: "bar",
      data: {
        labels: d.states.labels,
        datasets: [{ label: "tickets", data: d.states.data,
          backgroundColor: d.states.labels.map(function (s) { return STATE_COLORS[s] || PALETTE[0]; }) }]
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
    if (!d.age) return;
    draw("chart-ticket-age", {
      type: "bar",
      data: {
        labels: d.age.labels,
        datasets: d.age.series.map(function (s) {
          return { label: s.label, data: s.data, backgroundColor: STATE_COLORS[s.label] || PALETTE[0] };
        })
      },
      options: {
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } }
      }
    });
  }

  function signoffs(d) {
    var colors = d.days.map(function (_, i) {
      if (d.pending[i]) return d.over[i] ? "#f28e2b" : "#a0cbe8";
      return d.over[i] ? "#e15759" : "#59a14f";
    });
    draw("chart-signoffs", {
      data: {
        labels: d.labels,
        datasets: [
          { type: "bar", label: "days to sign (waiting: so far)", data: d.days, backgroundColor: colors,
            minBarLength: 3 },
          { type: "line", label: "SLA: " + d.sla + " days", data: d.labels.map(function () { return d.sla; }),
            borderColor: "#1f2328", borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5 }
        ]
      },
      options: {
        onClick: follow(d.anchors),
        scales: { y: { beginAtZero: true, title: { display: true, text: "days" } } },
        plugins: { legend: { position: "bottom" }, tooltip: { callbacks: { title: fullTitle(d.full) } } }
      }
    });
  }

  function gaps(d) {
    fitRows("chart-gaps", d.labels.length);
    draw("chart-gaps", {
      type: "bar",
      data: {
        labels: d.labels,
        datasets: [
          { label: "negative items", data: d.negative, backgroundColor: TONE.negative },
          { label: "other items", data: d.other, backgroundColor: "#bab0ac" }
        ]
      },
      options: {
        indexAxis: "y", onClick: follow(d.anchors),
        scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } },
        plugins: { legend: { position: "bottom" }, tooltip: { callbacks: { title: fullTitle(d.full) } } }
      }
    });
  }

  function effect(d) {
    [["share", "share of all feedback"], ["negative", "negative share of the theme"]].forEach(function (pair) {
      var key = pair[0];
      fitRows(d.id + "-" + key, d.labels.length * 2);
      draw(d.id + "-" + key, {
        type: "bar",
        data: {
          labels: d.labels,
          datasets: [
            { label: "before", data: d[key].before, backgroundColor: TONE.before },
            { label: "after", data: d[key].after, backgroundColor: TONE.after }
          ]
        },
        options: {
          indexAxis: "y", onClick: follow(d.anchors),
          scales: { x: { beginAtZero: true, title: { display: true, text: pair[1] + " (%)" } } },
          plugins: { legend: { position: "bottom" }, tooltip: { callbacks: { title: fullTitle(d.full) } } }
        }
      });
    });
  }

  if (data.weekly) weekly(data.weekly);
  if (data.themeTone) tone("chart-theme", data.themeTone);
  if (data.sectionTone) tone("chart-section", data.sectionTone);
  if (data.tickets) tickets(data.tickets);
  if (data.signoffs) signoffs(data.signoffs);
  if (data.gaps) gaps(data.gaps);
  (data.effects || []).forEach(effect);

  // Charts are sized for the screen; the printed page is narrower.
  window.addEventListener("beforeprint", function () {
    Object.values(Chart.instances).forEach(function (chart) { chart.resize(); });
  });
  window.addEventListener("afterprint", function () {
    Object.values(Chart.instances).forEach(function (chart) { chart.resize(); });
  });
  document.documentElement.setAttribute("data-charts", String(Object.keys(Chart.instances).length));
})();
