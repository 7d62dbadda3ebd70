"""Pure functions over Bokeh documents as model specs: parsing, references, reachability.

Nothing here knows about HTTP or storage.
"""
