/* The main page: the user's documents, live, and a viewer for the one picked. */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("plotdesk-config").textContent);
  const root = config.prefix + "/";
  const list = document.getElementById("doc-list");
  const template = document.getElementById("doc-item");
  const viewerTitle = document.getElementById("viewer-title");
  const statusEl = document.getElementById("live-status");
  const problemsEl = document.getElementById("problems");
  const element = document.getElementById("plot-root");
  let current = null; // {docid, live}
  let docs = [];

  const origin = window.location.origin;
  document.getElementById("script-snippet").textContent =
    "from desktop_app.client import show\n" +
    "from bokeh.plotting import figure\n" +
    "p = figure(); p.line([1, 2, 3], [4, 6, 5])\n" +
    "show(p)  # appears here";
  document.getElementById("copy-script").addEventListener("click", () =>
    copy(document.getElementById("script-snippet").textContent));

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).catch(() => window.prompt("Copy this:", text));
    } else {
      window.prompt("Copy this:", text);
    }
  }

  async function api(method, path, body) {
    const init = {method: method, credentials: "same-origin", headers: {}};
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(root + path, init);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.message || response.statusText);
    return data;
  }

  function embedTag(doc) {
    const id = "plotdesk-" + Math.random().toString(36).slice(2, 10);
    const model = doc.roots[0] || "";
    const access = doc.published ? ' data-bokeh-public="true"'
      : ' data-bokeh-docapikey="' + doc.readonlyapikey + '"';
    return '<script src="' + origin + root + "bokeh/autoload.js/" + id + '" id="' + id +
      '" async="true" data-bokeh-data="server" data-bokeh-modelid="' + model +
      '" data-bokeh-root-url="' + origin + root + '" data-bokeh-docid="' + doc.docid + '"' +
      access + "></" + "script>";
  }

  function render() {
    list.textContent = "";
    document.getElementById("empty").hidden = docs.length > 0;
    for (const doc of docs) {
      const item = template.content.firstElementChild.cloneNode(true);
      item.dataset.docid = doc.docid;
      item.classList.toggle("current", current !== null && current.docid === doc.docid);
      const open = item.querySelector(".open");
      open.textContent = doc.title;
      open.addEventListener("click", () => openDoc(doc).catch(showOpenError));
      item.querySelector(".meta").textContent =
        doc.plots + (doc.plots === 1 ? " plot" : " plots") + (doc.published ? " · published" : "");
      const publish = item.querySelector(".publish");
      publish.hidden = doc.published;
      publish.addEventListener("click", () => api("POST", "bokeh/" + doc.docid + "/publish", {})
        .then(refresh).catch(alertError));
      item.querySelector(".embed").addEventListener("click", () => copy(embedTag(doc)));
      item.querySelector(".delete").addEventListener("click", () => {
        if (!window.confirm('Delete "' + doc.title + '" and all its plots?')) return;
        api("DELETE", "bokeh/doc/" + doc.docid + "/").then(refresh).catch(alertError);
      });
      list.appendChild(item);
    }
  }

  function showOpenError(err) {
    problemsEl.hidden = false;
    problemsEl.textContent = "Could not show this document: " + err.message;
  }

  function alertError(err) {
    window.alert(err.message);
  }

  async function refresh() {
    const data = await api("GET", "bokeh/userdocs/");
    docs = data.docs;
    if (current !== null && !docs.some((d) => d.docid === current.docid)) closeViewer();
    render();
  }

  function closeViewer() {
    if (current && current.live) current.live.close();
    current = null;
    viewerTitle.textContent = "Pick a document";
    statusEl.textContent = "";
    problemsEl.hidden = true;
  }

  async function openDoc(doc) {
    closeViewer();
    current = {docid: doc.docid, live: null};
    viewerTitle.textContent = doc.title;
    render();
    const mine = current;
    const live = await window.Plotdesk.show({
      rootUrl: root, docid: doc.docid, objid: null, element: element,
      onStatus: (text) => { statusEl.textContent = text; },
      onProblem: (lines) => {
        problemsEl.hidden = lines.length === 0;
        problemsEl.textContent = lines.join("\n");
      },
      onChange: () => refresh().catch(() => {}),
    });
    if (current === mine) current.live = live; else live.close();
  }

  function follow() {
    const url = root + "bokeh/sub?topic=" + encodeURIComponent("bokehuser:" + config.username);
    const source = new EventSource(url);
    let opened = false;
    const quietRefresh = () => refresh().catch(() => {});
    source.addEventListener("docchange", quietRefresh);
    source.addEventListener("reset", quietRefresh);
    // After a reconnect (e.g. the server restarted) changes may have been missed: catch up.
    source.addEventListener("open", () => {
      if (opened) quietRefresh();
      opened = true;
    });
  }

  window.plotdeskIndex = {openDoc: (docid) => openDoc(docs.find((d) => d.docid === docid)),
                          refresh: refresh};
  refresh().then(() => {
    const wanted = new URLSearchParams(window.location.search).get("doc");
    const doc = docs.find((d) => d.docid === wanted) || (docs.length === 1 ? docs[0] : null);
    if (doc) return openDoc(doc).catch(showOpenError);
    return null;
  }).catch(alertError);
  follow();
})();
