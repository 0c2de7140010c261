// Starts Swagger UI on the API documentation page (chalicelib/api/docs.py serves both).
// The document URL is relative to the page, so the page works behind API Gateway's stage prefix; the document's
// own server URL is relative too, so "Try it out" calls the same host and stage. No request leaves that host:
// the page's Content-Security-Policy allows only it.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    persistAuthorization: true,
    displayRequestDuration: true,
    filter: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
})();
