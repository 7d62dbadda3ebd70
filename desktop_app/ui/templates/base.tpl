<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} · Plotdesk</title>
<link rel="icon" href="{{prefix}}/bokeh/favicon.ico">
<link rel="stylesheet" href="{{prefix}}/static/plotdesk.css">
</head>
<body>
<header class="bar"><a class="brand" href="{{prefix}}/bokeh/">Plotdesk</a></header>
<main>
{{!base}}
</main>
</body>
</html>
