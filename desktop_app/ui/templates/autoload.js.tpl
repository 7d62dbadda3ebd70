/* Plotdesk autoload: renders one stored plot where this script tag stands, and keeps it live. */
(function () {
  "use strict";
  var elementid = {{!elementid}};
  var defaultRoot = {{!root_url}};
  var bundles = {{!bokehjs}};
  var tag = document.getElementById(elementid);
  if (tag == null) {
    console.error("Plotdesk autoload: no <script> with id '" + elementid + "' on this page");
    return;
  }
  var data = tag.dataset;
  var root = data.bokehRootUrl || defaultRoot;
  if (root.charAt(root.length - 1) !== "/") root += "/";
  var container = document.createElement("div");
  container.className = "bokeh-container plotdesk-embed";
  container.id = elementid + "-plot";
  tag.parentNode.insertBefore(container, tag);

  function loadOnce(key, url) {
    if (!window[key]) {
      window[key] = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = url;
        script.onload = resolve;
        script.onerror = function () { reject(new Error("could not load " + url)); };
        document.head.appendChild(script);
      });
    }
    return window[key];
  }

  function fail(err) {
    container.textContent = "Plotdesk: could not show this plot (" + err.message + ")";
    console.error("Plotdesk autoload:", err);
  }

  var ready = window.Plotdesk ? Promise.resolve()
    : loadOnce("__plotdeskLiveScript", root + "bokeh/static/plotdesk-live.js");
  ready.then(function () {
    return window.Plotdesk.show({
      bokehjs: bundles.map(function (b) { return root + "bokehjs/static/" + b; }),
      rootUrl: root,
      docid: data.bokehDocid,
      objid: data.bokehModelid || null,
      element: container,
      key: data.bokehPublic === "true" ? null : (data.bokehDocapikey || null),
      credentials: "omit",
      onProblem: function (lines) {
        if (lines.length) console.warn("Plotdesk: " + lines.join(" "));
      },
    });
  }).catch(fail);
})();
