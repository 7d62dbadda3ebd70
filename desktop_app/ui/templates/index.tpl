% rebase('base.tpl', title=title, prefix=prefix)
<div class="layout">
  <aside class="card docs">
    <div class="docs-head">
      <h1>Documents</h1>
      <span class="user">{{username}}
      % if multi_user:
        · <a href="{{prefix}}/bokeh/logout">log out</a>
      % end
      </span>
    </div>
    <ul id="doc-list" class="doc-list" aria-label="documents"></ul>
    <p id="empty" class="hint" hidden>No documents yet. Push a plot from a script:</p>
    <details class="snippet">
      <summary>Push from a script</summary>
      <pre id="script-snippet"></pre>
      <button type="button" id="copy-script">Copy</button>
    </details>
  </aside>
  <section class="card viewer">
    <div class="viewer-head">
      <h2 id="viewer-title">Pick a document</h2>
      <span id="live-status" class="status" aria-live="polite"></span>
    </div>
    <div id="problems" class="problems" hidden></div>
    <div id="plot-root" class="plot-root"></div>
  </section>
</div>
<template id="doc-item">
  <li class="doc">
    <button type="button" class="open link"></button>
    <span class="meta"></span>
    <span class="actions">
      <button type="button" class="publish small">Publish</button>
      <button type="button" class="embed small">Copy embed</button>
      <button type="button" class="delete small danger">Delete</button>
    </span>
  </li>
</template>
% for url in bokehjs:
<script src="{{url}}"></script>
% end
<script src="{{prefix}}/static/plotdesk-live.js"></script>
<script id="plotdesk-config" type="application/json">{{!config}}</script>
<script src="{{prefix}}/static/plotdesk-index.js"></script>
