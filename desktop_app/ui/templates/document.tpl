% rebase('base.tpl', title=title, prefix=prefix)
<section class="doc-head">
  <h1 id="doc-title">{{title}}</h1>
  <span id="live-status" class="status" aria-live="polite"></span>
</section>
<div id="problems" class="problems" hidden></div>
<div id="plot-root" class="plot-root"></div>
% for url in bokehjs:
<script src="{{url}}"></script>
% end
% for url in scripts:
<script src="{{url}}"></script>
% end
<script src="{{prefix}}/static/plotdesk-live.js"></script>
<script id="plotdesk-config" type="application/json">{{!config}}</script>
<script src="{{prefix}}/static/plotdesk-document.js"></script>
