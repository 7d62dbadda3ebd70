/* Plotdesk: show a stored document with BokehJS 3 and keep it live over Server-Sent Events.
 *
 * Used by our pages and by autoload.js embeds. The server sends classic `modelpush` /
 * `modeldel` messages; they are turned into a BokehJS document patch and applied in place, so
 * views, zoom and selection survive. Only when that is impossible (the stream was reset, the
 * patch failed) is the document loaded again.
 */
(function () {
  "use strict";
  if (window.Plotdesk) return;

  // Bokeh 3 value encodings that never hold references (same set as document/specs.py).
  const OPAQUE = new Set(["ndarray", "bytes", "number", "typed_array", "date", "datetime"]);
  const DANGLING = Symbol("dangling");

  function isRef(v) {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
    if (typeof v.id !== "string" || v.type === "object") return false;
    return Object.keys(v).every((k) => k === "id" || k === "type" || k === "subtype");
  }

  function knownModel(name) {
    try {
      return window.Bokeh.Models.get(name) != null;
    } catch (err) {
      return false;
    }
  }

  /* The name BokehJS should build: the subtype when it knows it (Figure over Plot). */
  function modelName(spec) {
    if (spec.subtype && knownModel(spec.subtype)) return spec.subtype;
    return spec.type;
  }

  /* Load the BokehJS bundles once per page, however many embeds ask (they run in order). */
  function loadBokeh(urls) {
    if (!window.__plotdeskBokeh) {
      if (window.Bokeh && window.Bokeh.embed && urls.length === 0) {
        window.__plotdeskBokeh = Promise.resolve();
      } else {
        window.__plotdeskBokeh = Promise.all(urls.map((url) => new Promise((resolve, reject) => {
          const script = document.createElement("script");
          script.src = url;
          script.async = false; // download in parallel, execute in order
          script.onload = resolve;
          script.onerror = () => reject(new Error("could not load " + url));
          document.head.appendChild(script);
        })));
      }
    }
    return window.__plotdeskBokeh;
  }

  /* Build BokehJS patch events from classic model specs. */
  class PatchBuilder {
    constructor(doc, pending) {
      this.doc = doc;
      this.pending = pending; // id -> spec of pushed models not yet in the BokehJS document
      this.defined = new Set();
    }

    ref(id) {
      if (this.doc.get_model_by_id(id) != null || this.defined.has(id)) return {id: id};
      const spec = this.pending.get(id);
      if (spec == null) return DANGLING;
      this.defined.add(id);
      return {type: "object", name: modelName(spec), id: id, attributes: this.attrs(spec)};
    }

    attrs(spec) {
      const out = {};
      for (const [key, value] of Object.entries(spec.attributes || {})) {
        if (key === "id" || key === "doc") continue;
        const converted = this.value(value);
        out[key] = converted === DANGLING ? null : converted;
      }
      return out;
    }

    value(v) {
      if (Array.isArray(v)) {
        return v.map((x) => this.value(x)).filter((x) => x !== DANGLING);
      }
      if (v !== null && typeof v === "object") {
        if (isRef(v)) return this.ref(v.id);
        if (OPAQUE.has(v.type)) return v;
        const out = {};
        for (const [key, x] of Object.entries(v)) {
          const converted = this.value(x);
          out[key] = converted === DANGLING ? null : converted;
        }
        return out;
      }
      return v;
    }
  }

  class LiveDocument {
    /* options: rootUrl (ends with "/"), docid, objid (or null for the whole document),
       element, key (document key, for embeds), credentials ("same-origin" | "omit"),
       onStatus(text), onProblem(html-safe text list) */
    constructor(options) {
      this.o = options;
      this.doc = null;
      this.pending = new Map();
      this.source = null;
      this.lastEventId = null;
      this.closed = false;
    }

    headers() {
      return this.o.key ? {"BOKEH-API-KEY": this.o.key} : {};
    }

    docjsonUrl(exclude) {
      let url = this.o.rootUrl + "bokeh/docjson/" + encodeURIComponent(this.o.docid) + "/";
      if (this.o.objid) url += encodeURIComponent(this.o.objid) + "/";
      if (exclude && exclude.length) url += "?exclude_types=" + encodeURIComponent(exclude.join(","));
      return url;
    }

    async fetchJson(url) {
      const response = await fetch(url, {headers: this.headers(), credentials: this.o.credentials || "same-origin"});
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(body.message || (response.status + " " + response.statusText));
      return body;
    }

    async load() {
      let info = await this.fetchJson(this.docjsonUrl());
      const missing = (info.unknown_types || []).filter((name) => !knownModel(name));
      if (missing.length) info = await this.fetchJson(this.docjsonUrl(missing));
      this.info = info;
      this.lastEventId = info.last_event_id;
      this.report(info);
      this.o.element.textContent = "";
      const views = await window.Bokeh.embed.embed_items(
        {[info.docid]: info.doc_json},
        [{docid: info.docid, elementid: this.o.element.id, roots: {}}]);
      const manager = views[0];
      this.doc = window.Bokeh.documents[window.Bokeh.documents.length - 1];
      for (const view of manager ? manager.roots || [] : []) {
        if (view.model && view.model.document) this.doc = view.model.document;
      }
      this.pending.clear();
      this.status(this.liveText(""));
      return info;
    }

    /* The status line: the connection state, plus a hint while the document has no plots.
       (Counting the document's roots, not the element's children: BokehJS 3.9 adds a
       Notifications view to every embed.) */
    liveText(state) {
      const empty = !this.o.objid && this.doc != null && this.doc.roots().length === 0 &&
        !((this.info && this.info.problems) || []).length;
      const hint = empty ? "This document has no plots yet; push one from a script." : "";
      return state && hint ? state + " · " + hint : state || hint;
    }

    report(info) {
      const lines = [];
      for (const problem of info.problems || []) {
        lines.push("Could not render " + problem.root + ": BokehJS " +
          (window.Bokeh.version || "3") + " has no model " + problem.unknown_types.join(", ") + ".");
      }
      if (this.o.onProblem) this.o.onProblem(lines);
    }

    status(text) {
      if (this.o.onStatus) this.o.onStatus(text);
    }

    async start() {
      await this.load();
      this.subscribe();
      return this;
    }

    subscribe() {
      let url = this.o.rootUrl + "bokeh/sub?topic=" + encodeURIComponent("bokehplot:" + this.o.docid);
      if (this.o.key) url += "&auth=" + encodeURIComponent(this.o.key);
      if (this.lastEventId) url += "&lastEventId=" + encodeURIComponent(this.lastEventId);
      const source = new EventSource(url);
      this.source = source;
      source.addEventListener("open", () => this.status(this.liveText("live")));
      source.addEventListener("error", () => {
        if (this.closed) return;
        this.status("reconnecting…");
        // The browser retries by itself unless the server refused the stream: then we do.
        if (source.readyState === EventSource.CLOSED) this.retryLater();
      });
      source.addEventListener("modelpush", (e) => this.onMessage(e, (m) => this.applyPush(m.modelspecs)));
      source.addEventListener("modeldel", (e) => this.onMessage(e, (m) => this.applyDelete(m.modelspecs)));
      source.addEventListener("reset", () => this.reload());
    }

    onMessage(event, apply) {
      this.lastEventId = event.lastEventId || this.lastEventId;
      const data = event.data;
      const colon = data.indexOf(":", data.indexOf(":") + 1); // topic is "<kind>:<value>"
      let message;
      try {
        message = JSON.parse(data.slice(colon + 1));
      } catch (err) {
        console.error("Plotdesk: bad event", err);
        return;
      }
      try {
        apply(message);
        if (this.o.onChange) this.o.onChange(message);
      } catch (err) {
        console.error("Plotdesk: could not apply a change in place; reloading the document", err);
        this.reload();
      }
    }

    applyPush(specs) {
      const doc = this.doc;
      for (const spec of specs) {
        if (doc.get_model_by_id(spec.id) == null) this.pending.set(spec.id, spec);
      }
      const builder = new PatchBuilder(doc, this.pending);
      const events = [];
      for (const spec of specs) {
        const model = doc.get_model_by_id(spec.id);
        if (spec.type === "PlotContext") {
          if (!this.o.objid) events.push(...this.rootEvents(spec, builder));
          continue;
        }
        if (model == null) continue; // defined where something first references it
        for (const [attr, value] of Object.entries(spec.attributes || {})) {
          if (attr === "id" || attr === "doc" || !(attr in model.properties)) continue;
          const converted = builder.value(value);
          events.push({kind: "ModelChanged", model: {id: spec.id}, attr: attr,
                       new: converted === DANGLING ? null : converted});
        }
      }
      for (const id of builder.defined) this.pending.delete(id);
      if (events.length) doc.apply_json_patch({events: events}, new Map());
      if (!this.o.objid && specs.some((spec) => spec.type === "PlotContext")) {
        this.status(this.liveText("live"));
      }
    }

    rootEvents(plotContext, builder) {
      const wanted = (plotContext.attributes.children || []).filter(isRef).map((r) => r.id);
      const current = this.doc.roots().map((m) => m.id);
      const events = [];
      for (const id of current) {
        if (!wanted.includes(id)) events.push({kind: "RootRemoved", model: {id: id}});
      }
      for (const id of wanted) {
        if (current.includes(id)) continue;
        const model = builder.ref(id);
        if (model !== DANGLING) events.push({kind: "RootAdded", model: model});
      }
      return events;
    }

    applyDelete(specs) {
      const events = [];
      for (const spec of specs) {
        this.pending.delete(spec.id);
        const model = this.doc.get_model_by_id(spec.id);
        if (model == null) continue;
        if (this.doc.roots().includes(model)) {
          if (this.o.objid === spec.id) this.status("This plot was deleted.");
          else events.push({kind: "RootRemoved", model: {id: spec.id}});
        }
      }
      if (events.length) {
        this.doc.apply_json_patch({events: events}, new Map());
        this.status(this.liveText("live"));
      }
    }

    retryLater() {
      clearTimeout(this.retryTimer);
      const delay = Math.min(30000, 1000 * 2 ** Math.min(this.retries || 0, 5));
      this.retries = (this.retries || 0) + 1;
      this.retryTimer = setTimeout(() => this.reload(), delay);
    }

    async reload() {
      if (this.reloading || this.closed) return;
      this.reloading = true;
      try {
        if (this.source) this.source.close();
        if (this.doc) this.doc.clear();
        await this.load();
        this.retries = 0;
        this.subscribe();
      } catch (err) {
        this.status("Could not reload (" + err.message + "); trying again…");
        this.retryLater();
      } finally {
        this.reloading = false;
      }
    }

    close() {
      this.closed = true;
      clearTimeout(this.retryTimer);
      if (this.source) this.source.close();
      if (this.doc) this.doc.clear();
      this.o.element.textContent = "";
    }
  }

  async function show(options) {
    await loadBokeh(options.bokehjs || []);
    const live = new LiveDocument(options);
    return live.start();
  }

  window.Plotdesk = {show: show, loadBokeh: loadBokeh, LiveDocument: LiveDocument, isRef: isRef};
})();
