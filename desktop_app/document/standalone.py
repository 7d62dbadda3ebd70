"""A plot as one self-contained HTML file: BokehJS inlined, works offline, no server needed."""

from __future__ import annotations

import html
import json
from typing import Any

from desktop_app.document.bokehjs_files import bundle_paths


def _script_json(value: Any) -> str:
    return (json.dumps(value, separators=(",", ":")).replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026"))


def _inline(source: str) -> str:
    # A literal "</script" inside the code would end the element early.
    return source.replace("</script", "<\\/script")


def standalone_html(doc_json: dict[str, Any], title: str) -> str:
    """HTML that draws ``doc_json`` (a BokehJS document) with every script inlined."""
    scripts = "\n".join(f"<script>{_inline(path.read_text('utf-8'))}</script>"
                        for path in bundle_paths())
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
{scripts}
</head>
<body>
<div id="plotdesk-export"></div>
<script type="application/json" id="plotdesk-doc">{_script_json(doc_json)}</script>
<script>
(function () {{
  var doc = JSON.parse(document.getElementById("plotdesk-doc").textContent);
  Bokeh.embed.embed_items({{"export": doc}},
                          [{{docid: "export", elementid: "plotdesk-export", roots: {{}}}}]);
}})();
</script>
</body>
</html>
"""
