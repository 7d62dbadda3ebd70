/* Plotdesk jsgenerate: a BokehJS 3 model that renders as its parent (classic applet classes). */
(function () {
  "use strict";
  var parentName = {{!parent}};
  var moduleName = {{!module}};
  var className = {{!cls}};
  var Bokeh = window.Bokeh;
  if (Bokeh == null || Bokeh.Models == null) {
    throw new Error("Plotdesk jsgenerate: load BokehJS before /bokeh/jsgenerate/" +
                    parentName + "/" + moduleName + "/" + className);
  }
  var Parent = Bokeh.Models.get(parentName);
  if (Parent == null) {
    throw new Error("Plotdesk jsgenerate: BokehJS has no model '" + parentName + "'");
  }
  var Model = Bokeh.Models.get(className);
  if (Model == null) {
    Model = ({[className]: class extends Parent {}})[className];
    Model.__name__ = className;
    Bokeh.Models.register(Model);
  }
  var namespace = window[moduleName] = window[moduleName] || {};
  namespace[className] = Model;
  // The classic pages called <module>.main() before rendering; it is harmless to call again.
  namespace.main = function () { return Model; };
})();
