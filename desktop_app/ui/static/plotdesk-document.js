/* One document (or one plot of it) on its own page, live. */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("plotdesk-config").textContent);
  const statusEl = document.getElementById("live-status");
  const problemsEl = document.getElementById("problems");

  function showProblems(lines) {
    problemsEl.hidden = lines.length === 0;
    problemsEl.textContent = "";
    for (const line of lines) {
      const p = document.createElement("p");
      p.textContent = line;
      problemsEl.appendChild(p);
    }
  }

  window.Plotdesk.show({
    rootUrl: config.prefix + "/",
    docid: config.docid,
    objid: config.objid,
    element: document.getElementById("plot-root"),
    onStatus: (text) => { statusEl.textContent = text; },
    onProblem: showProblems,
  }).then((live) => { window.plotdeskLive = live; }).catch((err) => {
    showProblems(["Could not show this document: " + err.message]);
  });
})();
